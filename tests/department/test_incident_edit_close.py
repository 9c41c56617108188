"""An incident can be edited (case number, offense type, description, time window), closed and
reopened, each change recorded; a closed case contacts nobody; the incidents list is paginated
and searchable by case number."""

from __future__ import annotations

from datetime import UTC, datetime
from secrets import token_urlsafe

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from portal.department.incident_views import INCIDENTS_PER_PAGE
from portal.department.models import Incident, Notification
from portal.registry.models import AuditEntry, Site

pytestmark = pytest.mark.django_db

EDIT = {
    "case_number": "CPD-77-B",
    "category": "robbery",
    "description": "Side door forced; a grey van seen leaving.",
    "starts_at": "2026-11-20T20:30",
    "ends_at": "2026-11-20T23:30",
}


def incident_make(case_number: str = "CPD-77", **fields: object) -> Incident:
    with schema_context("concord"):
        opener = get_user_model().objects.get_or_create(username="opener@concord.example.org")[0]
        return Incident.objects.create(
            kind="crime",
            category="burglary",
            case_number=case_number,
            address="Union St S",
            latitude=35.4080,
            longitude=-80.5810,
            starts_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
            ends_at=datetime(2026, 11, 21, 4, 0, tzinfo=UTC),
            radius_m=400,
            opened_by=opener,
            **fields,
        )


def entries(action: str) -> list[AuditEntry]:
    with schema_context("concord"):
        return list(AuditEntry.objects.filter(action=action))


@pytest.fixture
def investigator(make_staff):
    return make_staff("concord", "investigator")


def test_an_investigator_edits_a_case_and_the_change_is_recorded(investigator):
    case = incident_make()
    page = investigator.client.get(f"/department/incidents/{case.pk}/edit/")
    assert page.status_code == 200
    assert 'value="CPD-77"' in page.content.decode()

    response = investigator.client.post(f"/department/incidents/{case.pk}/edit/", EDIT)
    assert response.status_code == 302
    with schema_context("concord"):
        case.refresh_from_db()
    assert case.case_number == "CPD-77-B"
    assert case.category == "robbery"
    assert case.description == EDIT["description"]
    # Concord's local time (America/New_York) 20:30 is 01:30 UTC the next day.
    assert case.starts_at == datetime(2026, 11, 21, 1, 30, tzinfo=UTC)
    (entry,) = entries("incident_edit")
    assert entry.actor_email == investigator.email
    assert entry.incident_id == case.pk and entry.case_number == "CPD-77-B"
    assert "case_number CPD-77 -> CPD-77-B" in entry.reason
    assert "category burglary -> robbery" in entry.reason
    # The description's words are the case's, not the audit trail's.
    assert "grey van" not in entry.reason and "description" in entry.reason
    page = investigator.client.get(f"/department/incidents/{case.pk}/").content.decode()
    assert "Case CPD-77-B" in page and "a grey van seen leaving" in page


def test_saving_an_unchanged_case_records_nothing(investigator):
    case = incident_make()
    investigator.client.post(
        f"/department/incidents/{case.pk}/edit/",
        {
            "case_number": "CPD-77",
            "category": "burglary",
            "description": "",
            "starts_at": "2026-11-20T21:00",
            "ends_at": "2026-11-20T23:00",
        },
    )
    assert entries("incident_edit") == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ends_at": "2026-11-20T19:00"}, "ends_at", "The time window ends before it starts."),
        ({"case_number": ""}, "case_number", "This field is required."),
        ({"category": "not-a-code"}, "category", "Select a valid choice."),
        ({"starts_at": "yesterday"}, "starts_at", "Enter a valid date/time."),
    ],
)
def test_a_bad_edit_says_what_is_wrong_and_changes_nothing(investigator, change, field, message):
    case = incident_make()
    response = investigator.client.post(f"/department/incidents/{case.pk}/edit/", EDIT | change)
    assert response.status_code == 400
    assert message in response.content.decode()
    with schema_context("concord"):
        case.refresh_from_db()
    assert case.case_number == "CPD-77"
    assert entries("incident_edit") == []


def test_a_case_is_closed_and_reopened_each_time_recorded(investigator):
    case = incident_make()
    response = investigator.client.post(f"/department/incidents/{case.pk}/close/")
    assert response.status_code == 302
    with schema_context("concord"):
        case.refresh_from_db()
    assert case.is_closed
    page = investigator.client.get(f"/department/incidents/{case.pk}/").content.decode()
    assert "Closed on" in page
    # Closed, the page offers no area notice.
    assert f'action="/department/incidents/{case.pk}/notify/"' not in page

    # A second click closes nothing twice.
    investigator.client.post(f"/department/incidents/{case.pk}/close/")
    assert len(entries("incident_close")) == 1

    investigator.client.post(f"/department/incidents/{case.pk}/reopen/")
    with schema_context("concord"):
        case.refresh_from_db()
    assert not case.is_closed
    (closed,) = entries("incident_close")
    (reopened,) = entries("incident_reopen")
    assert closed.case_number == reopened.case_number == "CPD-77"
    assert reopened.actor_email == investigator.email


def test_a_closed_case_contacts_nobody(investigator, make_resident, site_data):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    case = incident_make(closed_at=datetime(2026, 11, 22, tzinfo=UTC))
    with schema_context("concord"):
        site = Site.objects.get()
    base = f"/department/incidents/{case.pk}"
    reveal = investigator.client.post(f"{base}/sites/{site.pk}/reveal/", {"note": ""}, follow=True)
    assert "This case is closed" in reveal.content.decode()
    assert "Alice" not in reveal.content.decode()
    request = investigator.client.post(f"{base}/sites/{site.pk}/request/", {"message": ""})
    assert request.status_code == 302
    notice = investigator.client.post(
        f"{base}/notify/", {"message": "", "key": token_urlsafe()}, follow=True
    )
    assert "This case is closed" in notice.content.decode()
    with schema_context("concord"):
        assert not Notification.objects.exists()
        assert not AuditEntry.objects.filter(action__in=["reveal", "notify", "footage_request"])


def test_analysts_cannot_edit_or_close_a_case(make_staff):
    analyst = make_staff("concord", "analyst")
    case = incident_make()
    assert analyst.client.post(f"/department/incidents/{case.pk}/edit/", EDIT).status_code == 403
    assert analyst.client.post(f"/department/incidents/{case.pk}/close/").status_code == 403


def test_the_incidents_list_is_paginated_and_searchable_by_case_number(investigator):
    for number in range(INCIDENTS_PER_PAGE + 5):
        incident_make(f"CPD-{number:03d}")
    first = investigator.client.get("/department/incidents/").content.decode()
    assert first.count('href="/department/incidents/') >= INCIDENTS_PER_PAGE
    assert "Page 1 of 2" in first and "?page=2" in first
    second = investigator.client.get("/department/incidents/?page=2").content.decode()
    assert "Page 2 of 2" in second and "CPD-000" in second and "CPD-054" not in second
    found = investigator.client.get("/department/incidents/?case=cpd-01").content.decode()
    listed = {f"CPD-{n:03d}" for n in range(10, 20)}
    assert all(f">{case}</a>" in found for case in listed)
    assert ">CPD-020</a>" not in found and ">CPD-001</a>" not in found
    nothing = investigator.client.get("/department/incidents/?case=ZZZ").content.decode()
    assert "No incident has this case number." in nothing
    # A page number out of range shows the last page, not an error.
    assert investigator.client.get("/department/incidents/?page=99").status_code == 200
