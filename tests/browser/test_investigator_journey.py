"""An investigator's canvass in a real browser: sign in with a one-time code, open an incident
on the map, see the nearby sites, reveal one contact, notify the area; the owner answers
through the emailed link.

It runs in Little Rock, and its incident and audit entries stay there: audit entries can never
be deleted, and no other test counts Little Rock's."""

from __future__ import annotations

import re

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.core import mail
from django_tenants.utils import schema_context

from portal.department.models import Incident, NotificationRecipient
from portal.registry.models import AuditEntry, StaffMember
from portal.registry.services import participant_create, site_register
from tenants.models import Department
from tests.conftest import TOTP_SECRET, totp_now

PASSWORD = "an-investigators-passphrase"


def setup_people() -> None:
    department = Department.objects.select_related("program").get(schema_name="littlerock")
    with schema_context("littlerock"):
        users = get_user_model().objects
        investigator = users.create_user(
            username="ivy.investigator@littlerock.example.org",
            email="ivy.investigator@littlerock.example.org",
            password=PASSWORD,
        )
        EmailAddress.objects.create(
            user=investigator, email=investigator.email, verified=True, primary=True
        )
        StaffMember.objects.create(user=investigator, role="investigator")
        TOTP.activate(investigator, TOTP_SECRET)
        owner = users.create_user(
            username="omar@browser.example.org", email="omar@browser.example.org"
        )
        site_register(
            participant=participant_create(user=owner),
            program=department.program,
            site={
                "kind": "home",
                "address": "5 Browser Ct",
                "latitude": 34.7467,
                "longitude": -92.2894,
                "contact_name": "Omar Haddad",
                "contact_phone": "+15015550188",
                "contact_email": owner.email,
                "contact_method": "phone",
                "contact_hours": "",
            },
            cameras=[
                {
                    "label": "Porch",
                    "direction": 200,
                    "sees": ["street"],
                    "mount": "wall",
                    "recording": "motion",
                    "retention_days": 30,
                    "night_vision": True,
                }
            ],
            language="en",
        )


def test_an_investigator_canvasses_and_the_owner_answers(page, live_url):
    setup_people()
    littlerock = live_url.format(city="littlerock")
    page.goto(littlerock + "/accounts/login/")
    page.fill("input[name=login]", "ivy.investigator@littlerock.example.org")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now())
    page.locator("main form button[type=submit]").click()

    page.goto(littlerock + "/department/incidents/")
    page.locator("#pin-map").click()
    assert page.input_value("#id_latitude")
    page.select_option("#id_kind", "crime")
    page.select_option("#id_category", "burglary")
    page.fill("#id_case_number", "CPD-BROWSER-1")
    page.fill("#id_address", "Browser Ct")
    page.fill("#id_latitude", "34.7465")
    page.fill("#id_longitude", "-92.2896")
    page.fill("#id_starts_at", "2026-11-20T21:00")
    page.fill("#id_ends_at", "2026-11-20T23:00")
    page.fill("#id_radius_m", "300")
    page.get_by_role("button", name="Open and canvass").click()
    page.wait_for_url(re.compile(r"/department/incidents/\d+/$"))

    # The nearby site is on the map (numbered marker) and in the list, its contact hidden.
    assert page.locator("#incident-map .site-number").count() == 1
    assert page.get_by_text("5 Browser Ct").is_visible()
    assert page.get_by_text("Omar Haddad").count() == 0

    # Each site's actions are in its row's menu.
    page.locator("tr[id^='site-row-'] summary").first.click()
    page.get_by_role("button", name="Reveal contact").click()
    assert page.get_by_text("Omar Haddad").is_visible()
    assert page.get_by_text("(501) 555-0188").is_visible()
    page.get_by_role("link", name="Back to the canvass").click()

    mail.outbox = []
    # The notice is prepared, its count confirmed, then sent.
    page.get_by_role("button", name=re.compile("Prepare a “check your camera” notice")).click()
    assert page.get_by_text("1 owner will be contacted.").is_visible()
    page.get_by_role("button", name="Send to 1 owner").click()
    assert page.get_by_text("The notice is on its way").is_visible()
    notice = next(m for m in mail.outbox if m.to == ["omar@browser.example.org"])
    link = re.search(r"http://littlerock\.localhost:\d+(/answer/\S+/)", notice.body).group(1)

    owner = page.context.new_page()
    owner.goto(littlerock + link)
    owner.get_by_role("button", name="I have footage").click()
    assert owner.get_by_text("Thank you for your answer.").is_visible()

    with schema_context("littlerock"):
        incident = Incident.objects.get(case_number="CPD-BROWSER-1")
        assert (
            NotificationRecipient.objects.get(notification__incident=incident).answer
            == "has_footage"
        )
        actions = set(
            AuditEntry.objects.filter(incident_id=incident.pk).values_list("action", flat=True)
        )
        assert actions == {"canvass_view", "reveal", "notify"}
