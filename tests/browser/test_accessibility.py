"""axe-core finds no WCAG 2.1 A/AA violation on the resident pages, in every city's colours."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from portal.registry.models import Site
from portal.registry.services import participant_create, site_register
from tenants.models import Department
from tests.browser.conftest import AXE, CITIES

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def audit(browser, committed_db):
    # Injecting axe-core adds an inline script, which the Content-Security-Policy rightly
    # forbids; this context alone bypasses the policy so that axe can run.
    context = browser.new_context(bypass_csp=True, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()

    def check(url: str | None = None) -> None:
        """Audits url, or the page as it stands (after a form submission, say)."""
        if url:
            page.goto(url)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
            TAGS,
        )
        problems = [
            f"{violation['id']} ({violation['impact']}): {violation['help']} at "
            + "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
            for violation in result["violations"]
        ]
        assert not problems, f"{page.url}\n" + "\n".join(problems)

    check.page = page
    yield check
    context.close()


def resident_with_a_site(city: str) -> tuple[str, str]:
    email, password = f"ada.{city}@browser.example.org", "an-accessible-passphrase"
    department = Department.objects.select_related("program").get(schema_name=city)
    program = department.program
    with schema_context(city):
        user = get_user_model().objects.create_user(username=email, email=email, password=password)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        participant = participant_create(user=user)
        site_register(
            participant=participant,
            program=program,
            site={
                "kind": "home",
                "address": "1 Audit Way",
                "latitude": program.center_latitude,
                "longitude": program.center_longitude,
                "contact_name": "Ada Audit",
                "contact_phone": "+17045550160",
                "contact_email": email,
                "contact_method": "phone",
                "contact_hours": "",
            },
            cameras=[
                {
                    "label": "Porch",
                    "direction": 45,
                    "sees": ["street"],
                    "mount": "wall",
                    "recording": "motion",
                    "retention_days": 7,
                    "night_vision": True,
                }
            ],
            language="en",
        )
        # Integrated, so that the live-sharing page shows its controls.
        Site.objects.filter(participant=participant).update(
            participation=Site.Participation.INTEGRATED
        )
    return email, password


@pytest.mark.parametrize("city", CITIES)
def test_public_pages_are_accessible(audit, live_url, city):
    base = live_url.format(city=city)
    for path in ("/", "/accounts/signup/", "/accounts/login/", "/accounts/password/reset/"):
        audit(base + path)


@pytest.mark.parametrize("city", CITIES)
def test_resident_pages_are_accessible(audit, live_url, city):
    base = live_url.format(city=city)
    email, password = resident_with_a_site(city)
    page = audit.page
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    # A resident's sign-in lands on "My cameras" (tenants.adapters).
    page.wait_for_url(base + "/my/")
    for path in ("/register/", "/my/", "/my/access/", "/my/live/", "/my/leave/"):
        audit(base + path)
    # The registration form after a failed submission, with its error summary and messages.
    page.goto(base + "/register/")
    page.get_by_role("button", name="Register this site").click()
    assert page.get_by_role("heading", name="Please correct the following:").is_visible()
    audit()
    # The first field in error has the focus.
    assert page.evaluate("document.activeElement.getAttribute('aria-invalid')") == "true"


def test_the_spanish_landing_page_is_accessible(audit, live_url):
    base = live_url.format(city="concord")
    audit.page.goto(base + "/")
    audit.page.get_by_role("button", name="Español").click()
    audit(base + "/")
    assert audit.page.locator("html").get_attribute("lang") == "es"
