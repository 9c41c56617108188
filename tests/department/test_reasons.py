"""Structured reasons: every incident has an offence type from the department's own list and a
case number, every audit entry about it carries both, staff may add a note that never names the
owner, and the audit page, its export and the owner's access page show all three. The canvass
page, which lists addresses, is recorded once per visit."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from secrets import token_urlsafe

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department import services
from portal.department.models import Incident, NotificationRecipient
from portal.registry.audit import Actor, NoteNamesOwner
from portal.registry.models import AuditEntry, Site, StaffMember
from tenants.models import DEFAULT_OFFENCE_TYPES, Program
from tests.conftest import incident_post_data
from tests.department.test_notify import MP4

pytestmark = pytest.mark.django_db

INCIDENT = incident_post_data(
    category="vehicle_crime", case_number="CPD-2026-0300", address="Union St S"
)


@pytest.fixture
def concord_offences():
    """Concord's list as the test found it, put back afterwards (programs live in the public
    schema, which the tests' transactions roll back anyway; this keeps the intent visible)."""
    program = Program.objects.get(department__schema_name="concord")
    yield program
    Program.objects.filter(pk=program.pk).update(offence_types=program.offence_types)


def open_incident(staff, **overrides) -> Incident:
    response = staff.client.post("/department/incidents/", INCIDENT | overrides)
    assert response.status_code == 302, response.content.decode()
    with schema_context("concord"):
        return Incident.objects.get(case_number=(INCIDENT | overrides)["case_number"])


def the_site() -> Site:
    with schema_context("concord"):
        return Site.objects.get()


def entries(**filters) -> list[AuditEntry]:
    with schema_context("concord"):
        return list(AuditEntry.objects.filter(**filters).order_by("pk"))


def reveal(staff, incident, note="", **extra):
    return staff.client.post(
        f"/department/incidents/{incident.pk}/sites/{the_site().pk}/reveal/",
        {"note": note},
        **extra,
    )


# The department's list of offence types.


def test_a_new_department_starts_with_the_usual_offence_types():
    program = Program.objects.get(department__schema_name="concord")
    codes = [code for code, _label in program.offence_type_choices()]
    assert codes == [offence["code"] for offence in DEFAULT_OFFENCE_TYPES]
    assert {"burglary", "robbery", "missing_person", "traffic_collision", "other"} <= set(codes)


def test_the_incident_form_offers_the_department_offence_types(investigator):
    page = investigator.client.get("/department/incidents/").content.decode()
    assert '<select name="category"' in page
    assert '<option value="traffic_collision">Traffic collision</option>' in page


@pytest.mark.parametrize(
    ("category", "message"),
    [("", "This field is required."), ("arson", "Select a valid choice.")],
)
def test_an_incident_needs_an_offence_type_from_the_list(investigator, category, message):
    response = investigator.client.post("/department/incidents/", INCIDENT | {"category": category})
    assert response.status_code == 200
    assert message in response.content.decode()
    with schema_context("concord"):
        assert not Incident.objects.exists()


def test_the_administrator_edits_the_offence_types(make_staff, investigator, concord_offences):
    admin = make_staff("concord", "administrator")
    page = admin.client.get("/department/settings/").content.decode()
    assert "Vehicle crime\nVandalism" in page
    response = admin.client.post(
        "/department/settings/",
        {"offence_types": "Burglary\n  Shoplifting  \n\nDrug  offence\nOther\n"},
    )
    assert response.status_code == 302
    program = Program.objects.get(department__schema_name="concord")
    assert program.offence_types == [
        {"code": "burglary", "label": "Burglary"},
        {"code": "shoplifting", "label": "Shoplifting"},
        {"code": "drug_offence", "label": "Drug offence"},
        {"code": "other", "label": "Other"},
    ]
    # Staff now choose from the new list, and only from it.
    form = investigator.client.get("/department/incidents/").content.decode()
    assert '<option value="shoplifting">Shoplifting</option>' in form
    assert "Vehicle crime" not in form
    incident = open_incident(investigator, category="shoplifting")
    assert incident.category == "shoplifting"
    refused = investigator.client.post(
        "/department/incidents/", INCIDENT | {"case_number": "X-2"}
    ).content.decode()
    assert "Select a valid choice." in refused
    # Another city's list is its own.
    carrollton = Program.objects.get(department__schema_name="carrollton")
    assert carrollton.offence_label("vehicle_crime") == "Vehicle crime"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "This field is required."),
        ("\n  \n", "This field is required."),
        ("Burglary\nburglary", "“burglary” is listed twice."),
        ("Burglary\n!!!", "“!!!” needs at least one letter or digit."),
        ("x" * 61, "keep each type under 60 characters"),
        ("\n".join(f"Type {n}" for n in range(41)), "List at most 40 offense types."),
    ],
)
def test_a_bad_offence_type_list_is_refused_and_nothing_changes(
    make_staff, concord_offences, text, message
):
    admin = make_staff("concord", "administrator")
    response = admin.client.post("/department/settings/", {"offence_types": text})
    assert response.status_code == 400
    assert message in response.content.decode()
    program = Program.objects.get(department__schema_name="concord")
    assert program.offence_types == concord_offences.offence_types


def test_only_administrators_edit_the_offence_types(investigator, make_staff, concord_offences):
    for staff in (investigator, make_staff("concord", "analyst")):
        assert staff.client.post("/department/settings/", {"offence_types": "X"}).status_code == 403
    program = Program.objects.get(department__schema_name="concord")
    assert program.offence_types == concord_offences.offence_types


# Entries about an incident carry its offence type and case number.


def test_every_entry_about_an_incident_carries_its_offence_type_and_case_number(
    alice, investigator, django_capture_on_commit_callbacks
):
    incident = open_incident(investigator)
    site = the_site()
    base = f"/department/incidents/{incident.pk}"
    investigator.client.get(f"{base}/")
    reveal(investigator, incident)
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(f"{base}/notify/", {"message": "", "key": token_urlsafe()})
        investigator.client.post(f"{base}/sites/{site.pk}/request/", {"message": ""})
    investigator.client.get(f"{base}/canvass.csv")
    with schema_context("concord"):
        recipient = NotificationRecipient.objects.filter(notification__incident=incident).first()
        clip = services.clip_upload(
            recipient=recipient,
            upload=SimpleUploadedFile("a.mp4", MP4),
            program=Program.objects.get(department__schema_name="concord"),
            ip_address=None,
        )
    b"".join(investigator.client.get(f"/department/clips/{clip.pk}/").streaming_content)
    written = entries(incident_id=incident.pk)
    assert {entry.action for entry in written} == {
        "canvass_view",
        "reveal",
        "notify",
        "footage_request",
        "export",
        "download",
    }
    assert {(entry.category, entry.case_number) for entry in written} == {
        ("vehicle_crime", "CPD-2026-0300")
    }


# The note.


def test_a_reveal_records_the_note_with_the_offence_type_and_case(alice, investigator):
    incident = open_incident(investigator)
    response = reveal(investigator, incident, "  Camera over the side gate, 21:40  ")
    assert response.status_code == 200
    assert "Alice Moreno" in response.content.decode()
    (entry,) = entries(action="reveal")
    assert (entry.category, entry.case_number, entry.note) == (
        "vehicle_crime",
        "CPD-2026-0300",
        "Camera over the side gate, 21:40",
    )


def test_the_note_is_optional(alice, investigator):
    incident = open_incident(investigator)
    assert reveal(investigator, incident).status_code == 200
    (entry,) = entries(action="reveal")
    assert (entry.category, entry.note) == ("vehicle_crime", "")


@pytest.mark.parametrize(
    "note",
    [
        "Spoke to alice MORENO at the door",
        "spoke to Alice\n  Moreno",
        "Call her on 704.555.0142 after 5",
        "call +1 (704) 555 0142",
        "left a voicemail on 555-0142",
        "mailed ALICE@Example.org",
    ],
)
def test_a_note_with_the_owner_details_is_refused_and_nothing_is_recorded_or_shown(
    alice, investigator, note
):
    incident = open_incident(investigator)
    response = reveal(investigator, incident, note)
    assert response.status_code == 400
    page = response.content.decode()
    assert "The note contains the owner&#x27;s name, phone or email." in page
    assert "Nothing was recorded." in page
    assert "(704) 555-0142" not in page and "alice@example.org" not in page
    assert entries(action="reveal") == []


@pytest.mark.parametrize(
    "note",
    [
        "Case 2026-0142 follow-up",  # digits, but not the owner's number
        "Alice St camera faces the alley",  # part of the name, not the name
        "Morenos' neighbour has a doorbell camera",
    ],
)
def test_a_note_that_does_not_name_the_owner_is_kept(alice, investigator, note):
    incident = open_incident(investigator)
    assert reveal(investigator, incident, note).status_code == 200
    assert [entry.note for entry in entries(action="reveal")] == [note]


def test_the_one_writer_refuses_a_note_naming_the_owner_whoever_calls_it(alice, investigator):
    incident = open_incident(investigator)
    with schema_context("concord"):
        staff = StaffMember.objects.select_related("user").get(user__email=investigator.email)
        with pytest.raises(NoteNamesOwner):
            services.contact_reveal(
                actor=Actor.of_staff(staff, None),
                site=Site.objects.get(),
                incident=incident,
                note="Alice Moreno",
            )
    assert entries(action="reveal") == []


# Where the reasons are shown.


def test_the_audit_page_its_export_and_the_owner_show_offence_type_case_and_note(
    alice, investigator, make_staff
):
    incident = open_incident(investigator)
    reveal(investigator, incident, "Camera over the side gate")
    admin = make_staff("concord", "administrator")
    page = admin.client.get("/department/audit/", {"action": "reveal"}).content.decode()
    assert (
        '<td data-label="Offense type">Vehicle crime</td><td data-label="Case">CPD-2026-0300</td>'
        '<td data-label="Note">Camera over the side gate</td>'
    ) in page
    body = b"".join(admin.client.get("/department/audit.csv").streaming_content).decode()
    (row,) = [row for row in csv.DictReader(io.StringIO(body)) if row["action"] == "reveal"]
    assert (row["category"], row["case"], row["note"]) == (
        "Vehicle crime",
        "CPD-2026-0300",
        "Camera over the side gate",
    )
    mine = alice.client.get("/my/access/").content.decode()
    assert (
        "Vehicle crime, case CPD-2026-0300: A staff member saw your contact details to reach "
        "you about the case." in mine
    )
    assert "Note: Camera over the side gate" in mine


def test_an_offence_type_removed_from_the_list_still_shows_in_old_entries(
    alice, investigator, make_staff, concord_offences
):
    incident = open_incident(investigator)
    reveal(investigator, incident)
    admin = make_staff("concord", "administrator")
    admin.client.post("/department/settings/", {"offence_types": "Burglary\nOther"})
    page = admin.client.get("/department/audit/", {"action": "reveal"}).content.decode()
    assert (
        '<td data-label="Offense type">vehicle_crime</td><td data-label="Case">CPD-2026-0300</td>'
    ) in page


# The canvass page lists addresses: recorded once per visit.


def test_the_canvass_page_is_recorded_once_per_visit(alice, investigator, make_staff):
    incident = open_incident(investigator)
    path = f"/department/incidents/{incident.pk}/"
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert investigator.client.get(path).status_code == 200
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        investigator.client.get(path)  # the same visit: saving a state comes back here
    (entry,) = entries(action="canvass_view")
    assert (entry.actor_email, entry.incident_id) == (investigator.email, incident.pk)
    assert (entry.category, entry.case_number) == ("vehicle_crime", "CPD-2026-0300")
    assert entry.reason == "Canvass of 1 sites with addresses for case CPD-2026-0300"
    assert entry.site_id is None
    # Thirty minutes after the last recorded visit, a new one starts.
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        investigator.client.get(path)
    assert len(entries(action="canvass_view")) == 2
    # Another staff member's visit is their own.
    operator = make_staff("concord", "operator")
    with time_machine.travel(start + timedelta(minutes=32), tick=False):
        operator.client.get(path)
    assert [entry.actor_email for entry in entries(action="canvass_view")] == [
        investigator.email,
        investigator.email,
        operator.email,
    ]


def test_each_incident_visited_is_recorded(alice, investigator):
    first = open_incident(investigator)
    second = open_incident(investigator, case_number="CPD-2026-0301", category="robbery")
    investigator.client.get(f"/department/incidents/{first.pk}/")
    investigator.client.get(f"/department/incidents/{second.pk}/")
    assert [(e.case_number, e.category) for e in entries(action="canvass_view")] == [
        ("CPD-2026-0300", "vehicle_crime"),
        ("CPD-2026-0301", "robbery"),
    ]


def test_an_empty_canvass_shows_no_address_and_records_nothing(investigator):
    incident = open_incident(investigator)
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert "0 sites nearby" in page
    assert entries(action="canvass_view") == []
