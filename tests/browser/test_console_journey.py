"""The department console on a desk (1366 px) and on a phone (390x844): an investigator opens
an incident, reveals a contact (with a link to call), saves a canvass row without the page
reloading (htmx, under the Content-Security-Policy), and notifies the area through its
confirmation; the console's main pages do not scroll sideways at 320 CSS px (WCAG 1.4.10)
and axe-core finds no WCAG 2.1 A/AA violation on them.

It runs in Little Rock, whose incidents and audit entries no other test counts (audit entries
can never be deleted); its staff accounts are named for the viewport, one per test."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from portal.department.models import CanvassEntry, Incident, Notification
from portal.registry.models import StaffMember
from portal.registry.services import participant_create, site_register
from tenants.models import Department
from tests.browser.conftest import AXE
from tests.conftest import TOTP_SECRET, totp_now

PASSWORD = "a-console-journey-passphrase"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESK = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 320, "height": 700}


def staff_and_case(name: str, role: str) -> tuple[str, int]:
    """A staff member of Little Rock with an authenticator app, an owner's site near the
    middle of the city (Spanish-speaking, with a phone), and an incident next to it."""
    department = Department.objects.select_related("program").get(schema_name="littlerock")
    program = department.program
    email = f"{name}@littlerock.example.org"
    with schema_context("littlerock"):
        users = get_user_model().objects
        staff = users.create_user(username=email, email=email, password=PASSWORD)
        EmailAddress.objects.create(user=staff, email=email, verified=True, primary=True)
        StaffMember.objects.create(user=staff, role=role)
        TOTP.activate(staff, TOTP_SECRET)
        owner_email = f"owner.{name}@browser.example.org"
        owner = users.create_user(username=owner_email, email=owner_email)
        participant = participant_create(user=owner)
        participant.language = "es"
        participant.save(update_fields=["language"])
        site_register(
            participant=participant,
            program=program,
            site={
                "kind": "home",
                "address": f"7 {name.title()} Ct",
                "latitude": program.center_latitude + 0.0003,
                "longitude": program.center_longitude,
                "contact_name": "Rosa Ortega",
                "contact_phone": "+15015550123",
                "contact_email": owner_email,
                "contact_method": "phone",
                "contact_hours": "",
            },
            cameras=[
                {
                    "label": "Porch",
                    "direction": 180,
                    "sees": ["street"],
                    "mount": "wall",
                    "recording": "motion",
                    "retention_days": 30,
                    "night_vision": True,
                }
            ],
            language="es",
        )
        incident = Incident.objects.create(
            kind="crime",
            category="burglary",
            case_number=f"LR-{name.upper()}",
            address="Main St",
            latitude=program.center_latitude,
            longitude=program.center_longitude,
            starts_at=datetime(2026, 11, 20, 21, tzinfo=UTC),
            ends_at=datetime(2026, 11, 20, 23, tzinfo=UTC),
            radius_m=300,
            opened_by=staff,
        )
    return email, incident.pk


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/2fa/" not in url)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url}: {width} px wide at {viewport} px"


def axe_clean(page) -> None:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    problems = [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in result["violations"]
    ]
    assert not problems, f"{page.url}\n" + "\n".join(problems)


@pytest.mark.parametrize(("name", "viewport"), [("desk", DESK), ("phone", PHONE)])
def test_an_investigator_works_a_canvass_on_a_desk_and_on_a_phone(
    browser, committed_db, live_url, name, viewport
):
    email, incident_id = staff_and_case(f"journey.{name}", "investigator")
    base = live_url.format(city="littlerock")
    context = browser.new_context(locale="en-US", viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        sign_in(page, base, email)
        incident_url = f"{base}/department/incidents/{incident_id}/"
        page.goto(incident_url)
        no_sideways_scroll(page)
        if viewport is PHONE:
            # On a phone the navigation is a menu.
            assert not page.locator("nav.console-nav--wide").is_visible()
            page.locator("details.console-nav--menu summary").click()
            assert page.get_by_role("link", name="Incidents").first.is_visible()
        else:
            assert page.get_by_role("button", name="Sign out").is_visible()
            box = page.get_by_role("button", name="Sign out").bounding_box()
            assert box["height"] < 48, "“Sign out” wraps"

        # Reveal: the contact panel, with the owner's language and a link to call.
        row = page.locator("tr[id^='site-row-']").first
        row.locator("summary").click()
        row.get_by_role("button", name="Reveal contact").click()
        assert page.get_by_text("Rosa Ortega").is_visible()
        assert page.locator('a[href="tel:+15015550123"]').is_visible()
        assert page.get_by_text("Spanish").is_visible()
        no_sideways_scroll(page)
        page.get_by_role("link", name="Back to the canvass").click()

        # A row saved without the page reloading.
        page.evaluate("window.stillTheSamePage = true")
        row = page.locator("tr[id^='site-row-']").first
        row.locator("summary").click()
        row.get_by_label("State").select_option("contacted")
        row.get_by_label("Notes").fill("Left a card")
        row.get_by_role("button", name="Save").click()
        page.locator("#canvass-status").get_by_text("Saved:").wait_for()
        assert page.evaluate("window.stillTheSamePage") is True
        row = page.locator("tr[id^='site-row-']").first
        assert row.get_by_text("Left a card").is_visible()
        with schema_context("littlerock"):
            entry = CanvassEntry.objects.get(incident_id=incident_id)
            assert (entry.state, entry.notes) == ("contacted", "Left a card")

        # The area notice: a confirmation with the count, then sent once.
        page.get_by_role("button", name=re.compile("Prepare a “check your camera” notice")).click()
        assert page.get_by_text("1 owner will be contacted.").is_visible()
        no_sideways_scroll(page)
        page.get_by_role("button", name="Send to 1 owner").click()
        page.wait_for_url(re.compile(rf"/department/incidents/{incident_id}/$"))
        assert page.get_by_text(re.compile("The notice is (on its way|recorded and queued)"))
        with schema_context("littlerock"):
            assert Notification.objects.filter(incident_id=incident_id).count() == 1
        assert blocked == [], blocked
    finally:
        context.close()


def test_the_consoles_main_pages_reflow_at_320_px_and_are_accessible(
    browser, committed_db, live_url
):
    email, incident_id = staff_and_case("reflow.admin", "administrator")
    base = live_url.format(city="littlerock")
    context = browser.new_context(locale="en-US", viewport=NARROW, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        sign_in(page, base, email)
        for path in (
            "/department/",
            "/department/incidents/",
            f"/department/incidents/{incident_id}/",
            f"/department/incidents/{incident_id}/edit/",
            "/department/map/",
            "/department/settings/",
        ):
            page.goto(base + path)
            no_sideways_scroll(page)
            axe_clean(page)
        # The canvass's cards with a row's menu open, and the notice's confirmation.
        page.goto(f"{base}/department/incidents/{incident_id}/")
        page.locator("tr[id^='site-row-'] summary").first.click()
        no_sideways_scroll(page)
        axe_clean(page)
        page.get_by_role("button", name=re.compile("Prepare a “check your camera” notice")).click()
        no_sideways_scroll(page)
        axe_clean(page)
        page.set_viewport_size(DESK)
        page.goto(f"{base}/department/incidents/{incident_id}/")
        axe_clean(page)
    finally:
        context.close()
