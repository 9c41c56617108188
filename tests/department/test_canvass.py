"""Investigators open an incident, see the sites nearby, reveal a contact on purpose (recorded),
and track each owner; the audit trail is append-only and owners see their own entries."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import CanvassEntry, Incident
from portal.registry.models import AuditEntry, Site
from tests.conftest import feet, incident_post_data

pytestmark = pytest.mark.django_db

INCIDENT = incident_post_data()


def open_incident(staff, **overrides):
    return staff.client.post("/department/incidents/", INCIDENT | overrides)


def the_site() -> Site:
    with schema_context("concord"):
        return Site.objects.get()


def test_an_investigator_opens_an_incident_and_sees_the_site_nearby(alice, investigator):
    response = open_incident(investigator)
    assert response.status_code == 302
    with schema_context("concord"):
        incident = Incident.objects.get()
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert "77 Union St S, Concord, NC 28025" in page
    assert "1 site nearby" in page
    # Contact details stay hidden until revealed.
    assert "Alice Moreno" not in page
    assert "555-0142" not in page


def test_revealing_a_contact_is_recorded_before_it_is_shown(alice, investigator):
    open_incident(investigator)
    with schema_context("concord"):
        incident = Incident.objects.get()
    site = the_site()
    response = investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/reveal/",
        {"note": "Camera over the side gate"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alice Moreno" in page and "(704) 555-0142" in page
    with schema_context("concord"):
        entry = AuditEntry.objects.get()
    assert entry.action == AuditEntry.Action.REVEAL
    assert entry.actor_email == "investigator@concord.example.org"
    assert entry.actor_role == "investigator"
    assert entry.site_id == site.pk
    assert entry.participant_id == site.participant_id
    assert entry.incident_id == incident.pk
    assert (entry.category, entry.case_number) == ("burglary", "CPD-2026-0142")
    assert entry.note == "Camera over the side gate"
    assert entry.reason == "Contact details for case CPD-2026-0142"
    assert entry.ip_address == "10.1.2.3"


def test_the_owner_sees_who_revealed_their_details(alice, investigator):
    open_incident(investigator)
    with schema_context("concord"):
        incident = Incident.objects.get()
    investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{the_site().pk}/reveal/",
        {"note": "Camera over the side gate"},
    )
    page = alice.client.get("/my/access/").content.decode()
    assert "investigator@concord.example.org" in page
    # The owner reads a sentence in their language, not the department's English record.
    assert (
        "Burglary, case CPD-2026-0142: A staff member saw your contact details to reach you "
        "about the case." in page
    )
    assert "Note: Camera over the side gate" in page


def test_another_owner_does_not_see_the_entry(alice, investigator, make_resident):
    open_incident(investigator)
    with schema_context("concord"):
        incident = Incident.objects.get()
    investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{the_site().pk}/reveal/",
        {"note": ""},
    )
    bob = make_resident("concord", email="bob@example.org")
    assert "Nobody has seen your contact details." in bob.client.get("/my/access/").content.decode()


def test_the_canvass_state_is_tracked_with_notes(alice, investigator):
    open_incident(investigator)
    with schema_context("concord"):
        incident = Incident.objects.get()
    investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{the_site().pk}/state/",
        {"state": "has_footage", "notes": "Clip 21:40-21:55 promised"},
    )
    with schema_context("concord"):
        entry = CanvassEntry.objects.get()
    assert (entry.state, entry.notes) == ("has_footage", "Clip 21:40-21:55 promised")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # Concord writes distances in feet (Program.distance_units).
        ({"radius_m": "-5"}, "A distance cannot be negative."),
        ({"radius_m": "0"}, "A distance must be more than zero."),
        ({"radius_m": "500000"}, "This department searches at most 65616 ft from an incident"),
        ({"radius_m": "lots"}, "Type a distance in feet, a number such as 500."),
        ({"ends_at": "2026-11-20T20:00"}, "The time window ends before it starts."),
        ({"latitude": "34.7465", "longitude": "-92.2896"}, "outside the department"),
        ({"case_number": ""}, "This field is required."),
        ({"kind": "arson"}, "Select a valid choice."),
    ],
)
def test_bad_incident_input_is_refused(investigator, overrides, message):
    response = open_incident(investigator, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    with schema_context("concord"):
        assert not Incident.objects.exists()


def test_audit_entries_cannot_be_changed_or_deleted_even_by_the_database_user(investigator):
    with schema_context("concord"):
        entry = AuditEntry.objects.create(
            actor_email="x@example.org", actor_role="investigator", action="reveal", reason="r"
        )
        for attempt in (
            lambda: AuditEntry.objects.filter(pk=entry.pk).update(reason="forged"),
            lambda: AuditEntry.objects.filter(pk=entry.pk).delete(),
            lambda: connection.cursor().execute("TRUNCATE registry_auditentry"),
        ):
            with pytest.raises(DatabaseError), transaction.atomic():
                attempt()
        assert AuditEntry.objects.get(pk=entry.pk).reason == "r"


def test_opting_out_keeps_the_audit_trail_without_personal_data(alice, investigator):
    open_incident(investigator)
    with schema_context("concord"):
        incident = Incident.objects.get()
    investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{the_site().pk}/reveal/",
        {"note": ""},
    )
    alice.client.post("/my/leave/", {"confirm": "on", "close_account": "on"})
    with schema_context("concord"):
        assert not Site.objects.exists()
        entry = AuditEntry.objects.get()
        assert entry.reason == "Contact details for case CPD-2026-0142"
        assert entry.at <= timezone.now()


def test_owners_see_exports_that_held_their_site(alice, make_staff, investigator):
    open_incident(investigator)
    with schema_context("concord"):
        incident = Incident.objects.get()
    investigator.client.get(f"/department/incidents/{incident.pk}/canvass.csv")
    admin = make_staff("concord", "administrator")
    b"".join(admin.client.get("/department/registry.csv").streaming_content)
    page = alice.client.get("/my/access/").content.decode()
    assert (
        "case CPD-2026-0142: The list of sites near an incident, yours among them, exported "
        "for the case." in page
    )
    assert "The registry&#x27;s locations and cameras exported, without contact details." in page


def test_the_place_is_looked_up_from_the_address_when_a_geocoder_is_configured(
    investigator, settings
):
    import threading
    from http.server import ThreadingHTTPServer

    from tests.residents.test_geocoding import Nominatim  # a loopback Nominatim

    server = ThreadingHTTPServer(("127.0.0.1", 0), Nominatim)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.GEOCODER_URL = f"http://127.0.0.1:{server.server_port}"
    try:
        response = open_incident(
            investigator, address="77 Union St S, Concord", latitude="", longitude=""
        )
    finally:
        server.shutdown()
    assert response.status_code == 302
    with schema_context("concord"):
        incident = Incident.objects.get()
    assert (incident.latitude, incident.longitude) == (35.4081, -80.5806)


def test_without_a_geocoder_the_place_must_be_clicked(investigator):
    response = open_incident(investigator, latitude="", longitude="")
    assert "Click the map or type the coordinates of the place." in response.content.decode()


def test_a_missing_person_widens_the_radius_and_counts_every_camera(
    make_resident, site_data, investigator
):
    owner = make_resident("concord")
    # About 700 m north of the incident, with a camera keeping one day of video.
    owner.client.post(
        "/register/",
        site_data(latitude="35.4143", **{"cameras-0-retention_days": "1"}),
    )
    crime = INCIDENT | {
        "radius_m": feet(500),
        "starts_at": "2026-11-01T21:00",
        "ends_at": "2026-11-01T22:00",
    }
    open_incident(investigator, **crime)
    open_incident(investigator, **crime | {"kind": "missing_person", "case_number": "MP-1"})
    with schema_context("concord"):
        crime_case = Incident.objects.get(kind="crime")
        missing = Incident.objects.get(kind="missing_person")
    assert (
        "0 sites nearby"
        in investigator.client.get(f"/department/incidents/{crime_case.pk}/").content.decode()
    )
    page = investigator.client.get(f"/department/incidents/{missing.pk}/").content.decode()
    assert "1 site nearby" in page
    assert "Should still exist" in page
