"""A resident's download of everything the department holds about them (JSON and CSV): their
own records, what they may see of the audit trail and nothing staff keep to themselves,
recorded in the audit trail; and never a record of another city's resident who has the
same ids."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django_tenants.utils import schema_context

from portal.department.models import CanvassEntry, Incident
from portal.registry.audit import Actor, audit_record
from portal.registry.models import AuditEntry, Participant, Site
from portal.registry.services import site_register
from tenants.models import Department
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def alice(make_resident, site_data, make_staff, django_capture_on_commit_callbacks):
    """Alice with a site, a footage request she answered, a reveal of her details with a
    staff note the canvass keeps to itself."""
    alice = make_resident("concord")
    alice.client.post("/register/", site_data(contact_name="Alice Moreno"))
    investigator = make_staff("concord", "investigator")
    investigator.client.post(
        "/department/incidents/",
        incident_post_data(case_number="CPD-41", address="Union St S", radius_m="400"),
    )
    with schema_context("concord"):
        incident = Incident.objects.get()
        site = Site.objects.get()
    investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/reveal/",
        {"note": "Door camera faces the lot"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{incident.pk}/sites/{site.pk}/request/",
            {"message": "Please."},
        )
    with schema_context("concord"):
        CanvassEntry.objects.filter(site=site).update(notes="STAFF-ONLY remark")
    return alice


def test_the_json_holds_the_owners_records(alice):
    response = alice.client.get("/my/account/data.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(body(response))
    assert data["participant"][0]["account_email"] == "alice@example.org"
    assert data["sites"][0]["address"] == "77 Union St S, Concord, NC 28025"
    assert data["sites"][0]["contact_name"] == "Alice Moreno"
    assert len(data["cameras"]) == 1
    assert data["terms"][0]["terms_version_accepted"] == 1
    assert data["notice_preferences"][0] == {
        "access_notices": "at_once",
        "area_notices": True,
        "language": "en",
    }
    assert [request["case_number"] for request in data["requests"]] == ["CPD-41"]
    actions = {entry["action"] for entry in data["audit_entries"]}
    assert {"reveal", "footage_request"} <= actions
    reveal = next(entry for entry in data["audit_entries"] if entry["action"] == "reveal")
    assert reveal["note"] == "Door camera faces the lot"  # shown on the access page too
    assert "ip_address" not in reveal


def test_nothing_staff_keep_to_themselves_is_in_it(alice):
    text = body(alice.client.get("/my/account/data.json"))
    assert "STAFF-ONLY" not in text
    assert "127.0.0.1" not in text


def test_the_csv_holds_the_same_records_one_field_a_row(alice):
    response = alice.client.get("/my/account/data.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body(response))))
    assert rows[0] == ["section", "record", "field", "value"]
    assert ["sites", "1", "address", "77 Union St S, Concord, NC 28025"] in rows
    assert ["participant", "1", "account_email", "alice@example.org"] in rows
    assert ["requests", "1", "case_number", "CPD-41"] in rows


def test_a_formula_typed_by_the_owner_is_neutralised_in_the_csv(make_resident, site_data):
    owner = make_resident("concord")
    owner.client.post("/register/", site_data(contact_name="=HYPERLINK(1)"))
    rows = list(csv.reader(io.StringIO(body(owner.client.get("/my/account/data.csv")))))
    assert ["sites", "1", "contact_name", "'=HYPERLINK(1)"] in rows


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_each_download_is_recorded_and_shown_to_the_owner(alice, file_format):
    body(alice.client.get(f"/my/account/data.{file_format}"))
    with schema_context("concord"):
        owner = Participant.objects.get(user__email="alice@example.org")
        entry = AuditEntry.objects.get(action="owner_export")
        assert entry.participant_id == owner.pk
        assert file_format.upper() in entry.reason
    assert "Owner downloaded their own data" in alice.client.get("/my/access/").content.decode()


def test_the_download_speaks_for_itself_in_spanish_too(alice):
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    html = alice.client.get("/my/account/").content.decode()
    assert "Descargar mis datos (CSV, para una hoja de cálculo)" in html
    data = json.loads(body(alice.client.get("/my/account/data.json")))
    assert data["sites"][0]["address"] == "77 Union St S, Concord, NC 28025"


def test_other_formats_are_not_found(alice):
    assert alice.client.get("/my/account/data.xml").status_code == 404


def test_visitors_and_staff_get_no_download(concord_client, make_staff):
    assert concord_client.get("/my/account/data.json").status_code == 302
    investigator = make_staff("concord", "investigator")
    assert investigator.client.get("/my/account/data.json").status_code == 403


def test_two_cities_with_the_same_ids_never_leak(make_resident, site_data, make_staff):
    """Alice in Concord and Carla in Carrollton have the same participant and site ids; each
    download holds its own city's records only."""
    alice = make_resident("concord")
    carla = make_resident("carrollton", email="carla@example.org")
    places = {
        "concord": (alice.email, "77 Union St S", 35.4080, -80.5810, "Alice A"),
        "carrollton": (carla.email, "100 Newnan St", 33.5801, -85.0766, "Carla C"),
    }
    site_ids = {}
    for schema_name, (email, address, latitude, longitude, name) in places.items():
        with schema_context(schema_name):
            Participant.objects.filter(user__email=email).update(id=4242)
            site_ids[schema_name] = site_register(
                participant=Participant.objects.get(id=4242),
                program=Department.objects.get(schema_name=schema_name).program,
                site={
                    "id": 900001,
                    "kind": "home",
                    "address": address,
                    "latitude": latitude,
                    "longitude": longitude,
                    "contact_name": name,
                    "contact_method": "phone",
                    "contact_phone": "555-0100",
                },
                cameras=[
                    {
                        "label": "Porch",
                        "direction": 90,
                        "sees": ["street"],
                        "mount": "wall",
                        "recording": "motion",
                        "retention_days": 14,
                    }
                ],
                language="en",
            )
    # Carrollton's staff looked at Carla's details (an entry about participant 4242 there).
    staff = make_staff("carrollton", "investigator")
    with schema_context("carrollton"):
        from portal.registry.models import StaffMember

        audit_record(
            actor=Actor.of_staff(StaffMember.objects.get(user__email=staff.email), "10.0.0.9"),
            action=AuditEntry.Action.REVEAL,
            reason="CARROLLTON-ONLY reveal",
            site=site_ids["carrollton"],
        )
    alice_data = body(alice.client.get("/my/account/data.json"))
    carla_data = body(carla.client.get("/my/account/data.json"))
    assert "Alice A" in alice_data and "77 Union St S" in alice_data
    for other in ("Carla C", "100 Newnan St", "carla@example.org", "CARROLLTON-ONLY"):
        assert other not in alice_data
    assert "CARROLLTON-ONLY" in carla_data and "Carla C" in carla_data
    for other in ("Alice A", "77 Union St S", "alice@example.org"):
        assert other not in carla_data
    # A session of one city is no session in the other.
    assert json.loads(alice_data)["participant"][0]["id"] == 4242
    carla_client_in_concord = carla.client
    carla_client_in_concord.defaults["HTTP_HOST"] = "concord.localhost"
    response = carla_client_in_concord.get("/my/account/data.json")
    assert response.status_code == 302
