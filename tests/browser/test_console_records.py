"""The console's record pages (audit trail, staff, yard signs, imports) in a real browser: at
320 CSS px nothing scrolls sideways (WCAG 1.4.10 reflow) and axe-core finds no WCAG 2.1 A/AA
violation, filled with rows (a pending invitation, a sign to deliver, long addresses).

It runs in Concord; the accounts it makes are on the browser domain and are removed
afterwards, with the sites of the owner among them."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.registry.models import AuditEntry, Site, StaffMember
from portal.registry.services import participant_create
from tests.browser.conftest import AXE
from tests.conftest import TOTP_SECRET, totp_now

PASSWORD = "an-administrators-passphrase"
EMAIL = "ada.records@browser.example.org"
PAGES = [
    "/department/audit/",
    "/department/staff/",
    "/department/yard-signs/",
    "/department/import/",
    "/department/device-subscriptions/",
]
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def records_world() -> None:
    with schema_context("concord"):
        user_model = get_user_model()
        user = user_model.objects.create_user(username=EMAIL, email=EMAIL, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
        StaffMember.objects.create(user=user, role="administrator")
        TOTP.activate(user, TOTP_SECRET)
        invitee = "a.very.long.invitee.address.for.reflow@browser.example.org"
        pending = user_model.objects.create_user(username=invitee, email=invitee)
        StaffMember.objects.create(user=pending, role="analyst", invitation_sent_at=timezone.now())
        owner_email = "sign.owner@browser.example.org"
        owner = user_model.objects.create_user(username=owner_email, email=owner_email)
        participant = participant_create(user=owner)
        Site.objects.create(
            participant=participant,
            kind="home",
            address="12345 Extraordinarily Long Boulevard Northwest, Apartment 1234, Concord NC",
            latitude=35.41,
            longitude=-80.58,
            contact_name="Sign Owner",
            contact_method="email",
            terms_version=1,
            terms_accepted_at=timezone.now(),
            yard_sign_requested=True,
            yard_sign_address="PO Box 98765, Concord, North Carolina 28025-98765",
        )
        AuditEntry.objects.create(
            actor_email=EMAIL,
            actor_role="administrator",
            action="reveal",
            case_number="CPD-2026-000000000001",
            reason="Contact details for case CPD-2026-000000000001 with a long explanation",
            ip_address="2001:db8:85a3:0000:0000:8a2e:0370:7334",
        )


@pytest.fixture
def console(browser, committed_db, live_url):
    # Injecting axe-core adds an inline script, which the Content-Security-Policy rightly
    # forbids; this context alone bypasses the policy so that axe can run.
    context = browser.new_context(bypass_csp=True, locale="en-US")
    context.set_default_timeout(15_000)
    page = context.new_page()
    concord = live_url.format(city="concord")
    records_world()
    page.goto(concord + "/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/" not in url)
    yield page, concord
    context.close()


def axe_problems(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in result["violations"]
    ]


def sideways_scroll(page) -> int:
    """How many CSS px the page is wider than the window (0: no horizontal scrolling)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", [320, 1366])
def test_the_record_pages_reflow_and_are_accessible(console, width):
    page, concord = console
    page.set_viewport_size({"width": width, "height": 800})
    for path in PAGES:
        page.goto(concord + path)
        assert page.locator("h1").count() == 1
        if width == 320:
            assert sideways_scroll(page) <= 0, f"{path} scrolls sideways at 320 px"
        problems = axe_problems(page)
        assert not problems, f"{path}\n" + "\n".join(problems)
    # The rows the pages were filled with are there to reflow.
    page.goto(concord + "/department/yard-signs/")
    assert page.locator('td[data-label="Deliver to"]', has_text="PO Box 98765").is_visible()
    page.goto(concord + "/department/staff/")
    assert page.get_by_text("Invitation pending").first.is_visible()
