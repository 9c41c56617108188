"""The oversight role reads and records findings, nothing else: no reveal, canvass, export,
invitation, live view or exact place on the map; other staff do not reach its pages."""

from __future__ import annotations

from secrets import token_urlsafe

import pytest
from django_tenants.utils import schema_context

from portal.registry.models import AuditEntry, Capability, StaffMember

pytestmark = pytest.mark.django_db


def test_the_role_has_only_the_oversight_capability():
    member = StaffMember(role=StaffMember.Role.OVERSIGHT)
    assert member.capabilities == frozenset({Capability.OVERSEE})
    assert not member.can_casework and not member.sees_personal_data
    assert not member.can_administer and not member.can_manage_accounts
    assert not member.can_watch_live and not member.sees_inactive_sites
    # Administrators answer findings; recording them is the council's.
    assert not StaffMember(role=StaffMember.Role.ADMINISTRATOR).can_oversee
    assert StaffMember(role=StaffMember.Role.ADMINISTRATOR).can_administer


def test_an_oversight_account_cannot_reveal_canvass_notify_or_export(overseer, seeded):
    with schema_context("concord"):
        before = AuditEntry.objects.count()
    incident, site = seeded.incident_id, seeded.site_id
    refused = [
        ("post", f"/department/incidents/{incident}/sites/{site}/reveal/", {"note": "x"}),
        ("post", f"/department/incidents/{incident}/sites/{site}/request/", {"message": "x"}),
        (
            "post",
            f"/department/incidents/{incident}/notify/",
            {"message": "x", "key": token_urlsafe()},
        ),
        ("post", "/department/incidents/", {"case_number": "X-1"}),
        ("get", f"/department/incidents/{incident}/", None),
        ("get", f"/department/incidents/{incident}/canvass.csv", None),
        ("get", "/department/registry.csv", None),
        ("get", "/department/registry.geojson", None),
        ("get", "/department/audit.csv", None),
        ("get", "/department/audit/", None),
        ("post", "/department/staff/", {"email": "x@example.org", "role": "oversight"}),
        ("get", "/department/live/", None),
        ("get", "/department/live/cameras.json", None),
    ]
    for method, path, data in refused:
        response = getattr(overseer.client, method)(path, data or {})
        assert response.status_code == 403, path
        assert "Quackenbush" not in response.content.decode()
    with schema_context("concord"):
        assert AuditEntry.objects.count() == before


def test_the_map_gives_an_oversight_account_the_coarse_grid_only(overseer, seeded):
    response = overseer.client.get("/department/map/data.json?bbox=35,-81,36,-80&zoom=19")
    assert response.status_code == 200
    data = response.json()
    assert "sites" not in data
    assert all(round(cell["latitude"], 5) != 35.408 for cell in data["clusters"])


@pytest.mark.parametrize("role", ["investigator", "operator", "analyst"])
def test_other_staff_do_not_reach_the_oversight_pages(make_staff, role, seeded):
    staff = make_staff("concord", role, email=f"{role}-x@concord.example.org")
    assert staff.client.get("/department/oversight/").status_code == 403
    assert staff.client.get("/department/oversight/findings/").status_code == 403
    response = staff.client.post(
        f"/department/oversight/entries/{seeded.entry_ids[0]}/flag/", {"note": ""}
    )
    assert response.status_code == 403


def test_residents_and_visitors_do_not_reach_the_oversight_pages(make_resident, concord_client):
    resident = make_resident("concord", email="rita@example.org")
    assert resident.client.get("/department/oversight/").status_code == 403
    response = concord_client.get("/department/oversight/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_nav_shows_oversight_its_pages_only(overseer):
    page = overseer.client.get("/department/").content.decode()
    assert 'href="/department/oversight/"' in page
    assert 'href="/department/oversight/findings/"' in page
    assert 'href="/department/audit/"' not in page
    assert 'href="/department/incidents/"' not in page
    assert 'href="/department/staff/"' not in page


def test_the_oversight_pages_link_the_guardrails_they_may_read(overseer):
    page = overseer.client.get("/department/oversight/").content.decode()
    assert 'href="/department/guardrails/"' in page
    assert overseer.client.get("/department/guardrails/").status_code == 200
