"""Inputs that gave a 500, one test each: a specific message in the user's language, and
nothing written. (The import's and the clip upload's are in tests/registry/
test_registry_import_rows.py and tests/department/test_evidence.py; the fuzzer in
test_fuzz_forms.py tries everything else.)"""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.registry.models import AuditEntry

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- The audit page's filters ------------------------------------------------------------------


def test_a_nul_in_the_audit_pages_staff_filter_is_refused_with_a_message(admin):
    response = admin.client.get("/department/audit/", {"actor": "admin\x00"})
    assert response.status_code == 400
    assert messages_of(response) == ["Staff member: Null characters are not allowed."]


def test_the_audit_pages_refusal_speaks_the_staff_members_language(admin):
    response = admin.client.get("/department/audit/", {"actor": "\x00"}, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "Los caracteres nulos no están permitidos." in messages_of(response)[0]


def test_an_over_long_or_unknown_audit_filter_is_refused(admin):
    response = admin.client.get("/department/audit/", {"actor": "a" * 255})
    assert response.status_code == 400
    assert "at most 254 characters" in messages_of(response)[0]
    response = admin.client.get("/department/audit/", {"action": "delete_everything"})
    assert response.status_code == 400
    assert messages_of(response)[0].startswith(
        "Action: There is no such action: choose one from the list."
    )


def test_the_audit_filters_still_find_entries(admin, make_staff):
    other = make_staff("concord", "investigator")
    other.client.get("/department/registry.csv")  # 403: investigators cannot export
    admin.client.get("/department/registry.csv")
    with schema_context("concord"):
        assert AuditEntry.objects.count() == 1
    page = admin.client.get("/department/audit/", {"actor": " ADMINISTRATOR@", "action": "export"})
    assert page.status_code == 200
    assert b"administrator@concord.example.org" in page.content
    empty = admin.client.get("/department/audit/", {"action": "reveal"})
    assert b"No entries match these filters." in empty.content


# --- The security-key page ---------------------------------------------------------------------


@pytest.mark.parametrize("audience", ["resident", "staff", "vendor"])
def test_the_security_key_page_opens_for_every_audience(
    audience, make_resident, make_staff, platform_client, sign_in, vendor
):
    """allauth's list of security keys loads django.contrib.humanize: without the app it was a
    500 for everyone signed in."""
    if audience == "resident":
        client = make_resident("concord").client
    elif audience == "staff":
        client = make_staff("concord", "administrator").client
    else:
        client = platform_client
        sign_in(client, vendor)
    response = client.get("/accounts/2fa/webauthn/")
    assert response.status_code == 200
    assert b"Security Keys" in response.content


# --- Email addresses longer than a username ----------------------------------------------------

# Valid addresses (an email may have 254 characters) one beyond and exactly at the 150 characters
# of the username every account is made with.
TOO_LONG = "a" * 131 + "@concord.example.org"
LONGEST = "a" * 130 + "@concord.example.org"


def test_a_staff_invitation_to_an_address_longer_than_a_username_is_refused(admin):
    from django.contrib.auth import get_user_model

    assert len(TOO_LONG) == 151 and len(LONGEST) == 150
    response = admin.client.post("/department/staff/", {"email": TOO_LONG, "role": "analyst"})
    assert response.status_code == 400  # the form again, with its error
    assert "Use an email address of at most 150 characters." in response.content.decode()
    with schema_context("concord"):
        assert not get_user_model().objects.filter(email=TOO_LONG).exists()
    response = admin.client.post("/department/staff/", {"email": LONGEST, "role": "analyst"})
    assert response.status_code == 302
    with schema_context("concord"):
        assert get_user_model().objects.filter(email=LONGEST).exists()


def test_a_department_whose_administrator_address_is_too_long_is_not_created(
    platform_client, sign_in, vendor
):
    from tenants.models import Department

    sign_in(platform_client, vendor)
    response = platform_client.post(
        "/console/departments/new/",
        {
            "subdomain": "longville",
            "name": "Longville Police Department",
            "city": "Longville",
            "state": "NC",
            "time_zone": "America/New_York",
            "display_name": "Longville Camera Registry",
            "center_latitude": "35.0",
            "center_longitude": "-80.0",
            "service_radius_m": "9000 m",
            "goal_camera_count": "0",
            "primary_color": "#1d4ed8",
            "accent_color": "#f59e0b",
            "languages": ["en"],
            "administrator_email": "a" * 129 + "@longville.example.org",
        },
    )
    assert response.status_code == 400
    assert "Use an email address of at most 150 characters." in response.content.decode()
    assert not Department.objects.filter(schema_name="longville").exists()
