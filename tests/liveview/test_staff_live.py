"""The staff console's live view: the cameras staff may open now (near an incident too), the
form with a reason and case, the viewer with and without a relay, its status, renewing and
closing; analysts get none of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import Incident
from portal.liveview.models import Grant, Sharing
from portal.liveview.services import grant_open
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, StaffMember
from tests.liveview.grant_fixtures import live_camera

pytestmark = pytest.mark.django_db

RELAY = "http://{host}:8890"


def staff_row(staff) -> StaffMember:
    with schema_context(staff.schema_name):
        return StaffMember.objects.select_related("user").get(user__email=staff.email)


def open_as(staff, camera, reason="active_threat"):
    with schema_context(staff.schema_name):
        return grant_open(
            actor=Actor.of_staff(staff_row(staff), "127.0.0.1"),
            camera=camera,
            reason=reason,
            case_number="CPD-9",
        )


@pytest.fixture
def world(make_staff):
    with schema_context("concord"):
        shared = live_camera(label="Shared porch")
        hidden = live_camera(label="Hidden yard", email="bob@example.org", mode=Sharing.Mode.OFF)
    return make_staff("concord", "investigator"), shared, hidden


def test_the_list_shows_only_the_cameras_shared_now(world):
    investigator, shared, _hidden = world
    response = investigator.client.get("/department/live/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Shared porch" in page
    assert "Hidden yard" not in page
    assert f"/department/live/cameras/{shared.camera.pk}/open/" in page


def test_from_an_incident_the_list_is_near_it_with_distances(world):
    investigator, _shared, _hidden = world
    with schema_context("concord"):
        far = live_camera(label="Far away", email="far@example.org", latitude=35.5, longitude=-80.7)
        incident = Incident.objects.create(
            kind="crime",
            category="burglary",
            case_number="CPD-7",
            latitude=35.4085,
            longitude=-80.5810,
            starts_at=timezone.now(),
            ends_at=timezone.now(),
            radius_m=500,
            opened_by=far.site.participant.user,
        )
    page = investigator.client.get(f"/department/live/?incident={incident.pk}").content.decode()
    assert "Shared porch" in page
    assert "Far away" not in page
    assert "180 ft" in page  # 0.0005 degrees of latitude, in Concord's feet
    assert f"?incident={incident.pk}" in page
    incident_page = investigator.client.get(f"/department/incidents/{incident.pk}/")
    assert "Live cameras (1)" in incident_page.content.decode()
    assert "Live cameras (2)" in investigator.client.get("/department/map/").content.decode()


def test_analysts_get_403_everywhere_and_no_link(world, make_staff):
    investigator, shared, _hidden = world
    grant = open_as(investigator, shared.camera)
    analyst = make_staff("concord", "analyst")
    base = "/department/live/"
    for path in (
        base,
        f"{base}cameras/{shared.camera.pk}/open/",
        f"{base}grants/{grant.pk}/",
        f"{base}grants/{grant.pk}/status.json",
    ):
        assert analyst.client.get(path).status_code == 403, path
    for path in (
        f"{base}cameras/{shared.camera.pk}/open/",
        f"{base}grants/{grant.pk}/renew/",
        f"{base}grants/{grant.pk}/close/",
    ):
        assert (
            analyst.client.post(path, {"reason": "active_threat", "case_number": "1"}).status_code
            == 403
        )
    assert "Live cameras (" not in analyst.client.get("/department/map/").content.decode()
    with schema_context("concord"):
        assert Grant.objects.count() == 1


def test_opening_a_camera_creates_the_grant_and_shows_the_viewer(world, settings):
    settings.MEDIA_RELAY_URL = RELAY
    investigator, shared, _hidden = world
    form = investigator.client.get(f"/department/live/cameras/{shared.camera.pk}/open/")
    assert form.status_code == 200
    assert "Missing or endangered person (emergency)" in form.content.decode()
    response = investigator.client.post(
        f"/department/live/cameras/{shared.camera.pk}/open/",
        {"reason": "missing_person", "case_number": "CPD-9", "note": "", "notice_delay_hours": "2"},
    )
    with schema_context("concord"):
        grant = Grant.objects.get()
        assert grant.notice_delayed
        assert AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED).count() == 1
    assert response.status_code == 302
    assert response["Location"] == f"/department/live/grants/{grant.pk}/"
    viewer = investigator.client.get(response["Location"])
    page = viewer.content.decode()
    assert viewer.status_code == 200
    assert "Shared porch" in page
    assert "77 Union St S" in page
    assert "Missing or endangered person" in page
    assert "CPD-9" in page
    assert 'data-relay="http://concord.localhost:8890"' in page
    assert 'data-token="' in page
    assert "liveview/viewer.js" in page
    assert "<video" in page
    assert "<script>" not in page
    policy = viewer["Content-Security-Policy"]
    connect = next(part for part in policy.split(";") if "connect-src" in part)
    assert "http://concord.localhost:8890" in connect
    # Other pages may not connect to the relay.
    other = investigator.client.get("/department/live/")["Content-Security-Policy"]
    assert "8890" not in other


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Choose the reason for this live view."),
        ("tax_audit", "This reason is not one of the department&#x27;s live-view reasons."),
    ],
)
def test_the_form_says_what_is_wrong_with_the_reason(world, reason, message):
    investigator, shared, _hidden = world
    response = investigator.client.post(
        f"/department/live/cameras/{shared.camera.pk}/open/",
        {"reason": reason, "case_number": "CPD-9"},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    with schema_context("concord"):
        assert not Grant.objects.exists()


def test_without_a_relay_the_viewer_says_so_plainly(world, settings):
    settings.MEDIA_RELAY_URL = ""
    investigator, shared, _hidden = world
    grant = open_as(investigator, shared.camera)
    response = investigator.client.get(f"/department/live/grants/{grant.pk}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Live video is not set up on this server." in page
    assert "data-token" not in page
    assert "<video" not in page


def test_only_the_grant_own_staff_member_sees_it(world, make_staff):
    investigator, shared, _hidden = world
    grant = open_as(investigator, shared.camera)
    colleague = make_staff("concord", "operator")
    assert colleague.client.get(f"/department/live/grants/{grant.pk}/").status_code == 404
    assert (
        colleague.client.get(f"/department/live/grants/{grant.pk}/status.json").status_code == 404
    )
    assert colleague.client.post(f"/department/live/grants/{grant.pk}/close/").status_code == 404


def test_status_says_when_the_grant_ended_and_why(world):
    investigator, shared, _hidden = world
    grant = open_as(investigator, shared.camera)
    status = investigator.client.get(f"/department/live/grants/{grant.pk}/status.json").json()
    assert status["open"] is True
    assert 890 <= status["seconds_left"] <= 900
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        status = investigator.client.get(f"/department/live/grants/{grant.pk}/status.json").json()
        page = investigator.client.get(f"/department/live/grants/{grant.pk}/").content.decode()
    assert status == {
        "open": False,
        "seconds_left": 0,
        "ended_why": "expired",
        "ended": "Time limit reached",
    }
    assert "This live view has ended: Time limit reached." in page
    with schema_context("concord"):
        assert AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED_END).count() == 1


def test_the_owner_pause_shows_in_the_status(world):
    from portal.liveview.models import LivePreferences

    investigator, shared, _hidden = world
    grant = open_as(investigator, shared.camera)
    with schema_context("concord"):
        LivePreferences.objects.create(participant=shared.site.participant, paused=True)
    status = investigator.client.get(f"/department/live/grants/{grant.pk}/status.json").json()
    assert status["open"] is False
    assert status["ended_why"] == "owner_paused"


def test_renewing_and_closing_from_the_viewer(world):
    investigator, shared, _hidden = world
    grant = open_as(investigator, shared.camera)
    refused = investigator.client.post(
        f"/department/live/grants/{grant.pk}/renew/", {"reason": "", "case_number": "CPD-9"}
    )
    assert refused.status_code == 302
    assert refused["Location"] == f"/department/live/grants/{grant.pk}/"
    renewed = investigator.client.post(
        f"/department/live/grants/{grant.pk}/renew/",
        {"reason": "crime_in_progress", "case_number": "CPD-9"},
    )
    with schema_context("concord"):
        new = Grant.objects.get(renewed_from=grant)
    assert renewed["Location"] == f"/department/live/grants/{new.pk}/"
    closed = investigator.client.post(f"/department/live/grants/{new.pk}/close/")
    assert closed.status_code == 302
    with schema_context("concord"):
        new.refresh_from_db()
        assert new.ended_why == Grant.Ended.CLOSED
        assert AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED_END).count() == 2


def test_the_dashboard_counts_live_views_of_the_last_30_days(world):
    investigator, shared, _hidden = world
    grant = open_as(investigator, shared.camera)
    with schema_context("concord"):
        Grant.objects.filter(pk=grant.pk).update(
            watched_from=grant.opened_at, watched_until=grant.opened_at + timedelta(seconds=42)
        )
        old = open_as(investigator, shared.camera)
        Grant.objects.filter(pk=old.pk).update(opened_at=timezone.now() - timedelta(days=31))
    page = investigator.client.get("/department/").content.decode()
    assert "Live views, last 30 days" in page
    assert "42 s watched" in page


def test_the_map_shows_the_shared_cameras_at_their_places_and_records_it(world, make_staff):
    investigator, shared, _hidden = world
    with schema_context("concord"):
        before = AuditEntry.objects.filter(action=AuditEntry.Action.MAP_VIEW).count()
    answer = investigator.client.get("/department/live/cameras.json")
    assert answer.status_code == 200
    assert answer.json()["cameras"] == [
        {
            "label": "Shared porch",
            "latitude": shared.site.latitude,
            "longitude": shared.site.longitude,
            "emergency_only": False,
            "open_url": f"/department/live/cameras/{shared.camera.pk}/open/",
        }
    ]
    with schema_context("concord"):
        entries = AuditEntry.objects.filter(action=AuditEntry.Action.MAP_VIEW)
        assert entries.count() == before + 1
        assert entries.latest("at").site_id == shared.site.pk
    # The map and the incident's map ask for them; an analyst's map does not.
    assert (
        'data-live-url="/department/live/cameras.json"'
        in investigator.client.get("/department/map/").content.decode()
    )
    analyst = make_staff("concord", "analyst")
    assert "data-live-url" not in analyst.client.get("/department/map/").content.decode()
    assert analyst.client.get("/department/live/cameras.json").status_code == 403


def test_from_an_incident_the_map_gets_the_cameras_within_its_radius(world):
    investigator, shared, _hidden = world
    with schema_context("concord"):
        far = live_camera(label="Far shop", email="far@example.org", latitude=35.5, longitude=-80.4)
        incident = Incident.objects.create(
            kind="crime",
            category="burglary",
            case_number="CPD-MAP",
            latitude=shared.site.latitude,
            longitude=shared.site.longitude,
            starts_at=timezone.now(),
            ends_at=timezone.now(),
            radius_m=300,
            opened_by=staff_row(investigator).user,
        )
    answer = investigator.client.get(f"/department/live/cameras.json?incident={incident.pk}")
    labels = [camera["label"] for camera in answer.json()["cameras"]]
    assert labels == ["Shared porch"] and far.camera.label not in labels
    assert answer.json()["cameras"][0]["open_url"].endswith(f"?incident={incident.pk}")
    with schema_context("concord"):
        entry = AuditEntry.objects.filter(action=AuditEntry.Action.MAP_VIEW).latest("at")
        assert entry.case_number == "CPD-MAP"
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert f"/department/live/cameras.json?incident={incident.pk}" in page


def test_a_map_without_shared_cameras_records_nothing(make_staff):
    investigator = make_staff("concord", "investigator")
    with schema_context("concord"):
        before = AuditEntry.objects.count()
    answer = investigator.client.get("/department/live/cameras.json")
    assert answer.status_code == 200 and answer.json() == {"cameras": []}
    with schema_context("concord"):
        assert AuditEntry.objects.count() == before


def test_near_an_incident_without_live_cameras_no_distance_is_searched(world):
    """The "Live cameras" link shows on every canvass page: where no camera could be live (none
    mapped to a channel and shared), it costs a small query, not a second distance search."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal.liveview.selectors import live_cameras

    _investigator, shared, _hidden = world
    near = {"latitude": 35.4085, "longitude": -80.5810, "radius_m": 500}
    with schema_context("concord"):
        with CaptureQueriesContext(connection) as queries:
            assert [live.camera.pk for live in live_cameras(**near)] == [shared.camera.pk]
        assert any("ASIN(" in q["sql"].upper() for q in queries)  # the distance search ran
        Sharing.objects.update(mode=Sharing.Mode.OFF)
        with CaptureQueriesContext(connection) as queries:
            assert live_cameras(**near) == []
        assert not any("ASIN(" in q["sql"].upper() for q in queries), "a distance search ran"
