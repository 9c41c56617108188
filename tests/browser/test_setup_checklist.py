"""In Chromium: the administrator of a city being set up signs in with a second factor and sees
the setup steps on the dashboard; axe-core finds no WCAG 2.1 A/AA violation in the list, after
an answer, nor in the reopen link once it is hidden."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from portal.department.models import SetupChecklist
from portal.registry.models import StaffMember
from tests.browser.conftest import AXE
from tests.conftest import TOTP_SECRET, totp_now

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
EMAIL, PASSWORD = "ada.admin@browser.example.org", "an-administrators-passphrase"
CITY = "carrollton"


@pytest.fixture
def carrollton_being_set_up(committed_db: None) -> Iterator[None]:
    """Carrollton's checklist, as if it had just been provisioned, and an administrator (both
    removed afterwards: the browser's writes are committed)."""
    with schema_context(CITY):
        assert not SetupChecklist.objects.exists()
        SetupChecklist.objects.create(branding_at_start={})
        user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
        StaffMember.objects.create(user=user, role=StaffMember.Role.ADMINISTRATOR)
        TOTP.activate(user, TOTP_SECRET)
    yield
    with schema_context(CITY):
        SetupChecklist.objects.all().delete()


def test_the_administrator_sees_an_accessible_checklist(browser, live_url, carrollton_being_set_up):
    context = browser.new_context(bypass_csp=True, locale="en-US")  # axe is an inline script
    context.set_default_timeout(15_000)
    page = context.new_page()

    def axe_clean() -> None:
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            TAGS,
        )
        problems = [
            f"{violation['id']}: {violation['help']} at "
            + "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
            for violation in result["violations"]
        ]
        assert not problems, "\n".join(problems)

    try:
        city = live_url.format(city=CITY)
        page.goto(city + "/accounts/login/")
        page.fill("input[name=login]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.fill("input[name=code]", totp_now())
        page.locator("main form button[type=submit]").click()
        page.goto(city + "/department/")

        steps = page.locator("section.setup ol li")
        assert steps.count() == 4
        # Carrollton's demo branding differs from the empty record, and it has two staff
        # accounts now; no terms, no import.
        assert "Brand your portal (Done)" in steps.nth(0).inner_text()
        assert "(To do)" in steps.nth(1).inner_text()
        assert "(Done)" in steps.nth(2).inner_text()
        assert "(To do)" in steps.nth(3).inner_text()
        assert "2 of 4 done" in page.locator("#setup-progress").inner_text()
        axe_clean()

        page.get_by_role("button", name="Not needed: we have no existing list").click()
        page.wait_for_url(re.compile(r"/department/$"))
        assert "(Not needed)" in steps.nth(3).inner_text()
        assert "3 of 4 done" in page.locator("#setup-progress").inner_text()
        axe_clean()

        with schema_context(CITY):
            SetupChecklist.objects.update(hidden_at=SetupChecklist.objects.get().started_at)
        page.goto(city + "/department/")
        assert page.locator("section.setup").count() == 0
        assert page.get_by_role("button", name="Show setup steps").is_visible()
        axe_clean()
    finally:
        context.close()
