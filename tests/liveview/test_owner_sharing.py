"""The owner decides, per camera, what is shared live and when; only their own cameras, only
on an integrated site; a bad schedule is refused with a message and nothing is written."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django_tenants.utils import schema_context

from portal.liveview.models import Grant, Sharing
from portal.registry.models import AuditEntry, Camera
from tests.liveview.owner_fixtures import device_pair, grant_make, owner_make, staff_member

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def sharing_of(schema_name: str, camera_id: int) -> Sharing | None:
    with schema_context(schema_name):
        return Sharing.objects.filter(camera_id=camera_id).first()


EVENINGS = {
    "mode": "scheduled",
    "span-0-days": ["0", "1", "2", "3", "4"],
    "span-0-start": "18:00",
    "span-0-end": "07:00",
    "span-1-days": ["5", "6"],
    "span-1-start": "00:00",
    "span-1-end": "23:59",
}


def test_the_owner_saves_each_mode_of_a_camera(make_resident, site_data):
    alice = owner_make(make_resident, site_data)
    camera = alice.camera_ids[0]
    for mode in ("emergencies", "always", "off"):
        response = alice.client.post(f"/my/live/cameras/{camera}/", {"mode": mode})
        assert response.status_code == 302
        assert sharing_of("concord", camera).mode == mode
    assert sharing_of("concord", alice.camera_ids[1]) is None


def test_scheduled_hours_are_saved_as_spans_of_days_and_times(make_resident, site_data):
    alice = owner_make(make_resident, site_data)
    camera = alice.camera_ids[0]
    response = alice.client.post(f"/my/live/cameras/{camera}/", EVENINGS)
    assert response.status_code == 302
    sharing = sharing_of("concord", camera)
    assert sharing.mode == "scheduled"
    assert sharing.schedule == [
        {"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "07:00"},
        {"days": [5, 6], "start": "00:00", "end": "23:59"},
    ]
    page = alice.client.get("/my/live/").content.decode()
    assert 'name="span-0-start" id="start-' in page and 'value="18:00"' in page


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"mode": "scheduled"}, "Scheduled hours need at least one span"),
        (
            {"mode": "scheduled", "span-0-start": "18:00", "span-0-end": "07:00"},
            "Span 1: tick at least one day",
        ),
        (
            {"mode": "scheduled", "span-0-days": ["8"], "span-0-start": "1", "span-0-end": "2"},
            "Span 1: tick at least one day",
        ),
        (
            {"mode": "scheduled", "span-0-days": ["1"], "span-0-start": "25:00", "span-0-end": "2"},
            "Span 1: give the start and end as hours and minutes",
        ),
        (
            {"mode": "always", "span-0-days": ["1"], "span-0-start": "09:00"},
            "Span 1: give the start and end",
        ),
        (
            {"mode": "scheduled", "span-0-days": ["x"], "span-0-start": "09:00"},
            "Span 1: tick at least one day",
        ),
        (
            {
                "mode": "scheduled",
                "span-0-days": ["2"],
                "span-0-start": "09:00",
                "span-0-end": "09:00",
            },
            "Span 1: the end must differ from the start",
        ),
        ({"mode": "sometimes"}, "Choose one of the sharing choices shown."),
        ({}, "Choose one of the sharing choices shown."),
    ],
)
def test_a_bad_choice_is_refused_with_a_message_and_nothing_is_written(
    make_resident, site_data, posted, message
):
    alice = owner_make(make_resident, site_data)
    camera = alice.camera_ids[0]
    alice.client.post(f"/my/live/cameras/{camera}/", {"mode": "emergencies"})
    response = alice.client.post(f"/my/live/cameras/{camera}/", posted)
    assert response.status_code == 302
    assert any(message in shown for shown in messages_of(response)), messages_of(response)
    sharing = sharing_of("concord", camera)
    assert (sharing.mode, sharing.schedule) == ("emergencies", [])


def test_the_refusal_speaks_the_owners_language(make_resident, site_data):
    alice = owner_make(make_resident, site_data)
    alice.client.cookies["django_language"] = "es"
    response = alice.client.post(
        f"/my/live/cameras/{alice.camera_ids[0]}/",
        {"mode": "scheduled"},
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert any("al menos un tramo" in shown for shown in messages_of(response)), messages_of(
        response
    )


def test_another_owners_camera_is_not_found_and_unchanged(make_resident, site_data):
    alice = owner_make(make_resident, site_data)
    bob = owner_make(make_resident, site_data, email="bob@example.org")
    response = bob.client.post(f"/my/live/cameras/{alice.camera_ids[0]}/", {"mode": "always"})
    assert response.status_code == 404
    assert sharing_of("concord", alice.camera_ids[0]) is None


def test_the_same_camera_id_in_another_city_is_not_reached(make_resident, site_data):
    """Ids repeat from city to city: Carrollton's camera 1 is not Concord's."""
    concord = owner_make(make_resident, site_data)
    carrollton = owner_make(make_resident, site_data, "carrollton", email="carla@example.org")
    with schema_context("carrollton"):
        Camera.objects.filter(pk=carrollton.camera_ids[0]).update(id=concord.camera_ids[0])
    carrollton.camera_ids[0] = concord.camera_ids[0]
    carrollton.client.post(f"/my/live/cameras/{carrollton.camera_ids[0]}/", {"mode": "always"})
    assert sharing_of("carrollton", carrollton.camera_ids[0]).mode == "always"
    assert sharing_of("concord", concord.camera_ids[0]) is None
    # And Concord's owner reaches only Concord's camera of that id.
    concord.client.post(f"/my/live/cameras/{concord.camera_ids[0]}/", {"mode": "off"})
    assert sharing_of("concord", concord.camera_ids[0]).mode == "off"
    assert sharing_of("carrollton", carrollton.camera_ids[0]).mode == "always"


def test_a_camera_of_a_site_that_is_not_integrated_cannot_be_shared(make_resident, site_data):
    alice = owner_make(make_resident, site_data, integrated=False)
    response = alice.client.post(f"/my/live/cameras/{alice.camera_ids[0]}/", {"mode": "always"})
    assert any("not integrated" in shown for shown in messages_of(response))
    assert sharing_of("concord", alice.camera_ids[0]) is None


def test_a_site_that_is_not_integrated_shows_no_sharing_controls(make_resident, site_data):
    alice = owner_make(make_resident, site_data, integrated=False)
    response = alice.client.get("/my/live/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Pause all live sharing" not in page
    assert 'name="mode"' not in page
    assert "registered only: never watched live" in page
    assert "/my/live/" not in alice.client.get("/my/").content.decode()


def test_the_page_says_whether_each_camera_is_online_and_matched(make_resident, site_data):
    alice = owner_make(make_resident, site_data)
    page = alice.client.get("/my/live/").content.decode()
    assert "No device paired yet" in page
    assert f'href="/my/sites/{alice.site_id}/devices/"' in page
    device_pair("concord", alice)
    page = alice.client.get("/my/live/").content.decode()
    assert "No device paired yet" not in page
    assert page.count("<strong>Online</strong>") == 2
    assert "matched to channel Channel 1 of Hub in the garage" in page
    assert "Police can open this camera live only with an emergency reason" in page
    assert 'href="/my/live/"' in alice.client.get("/my/").content.decode()


def test_changing_the_mode_ends_an_open_view_of_that_camera_only(
    make_resident, site_data, make_staff
):
    alice = owner_make(make_resident, site_data)
    operator = make_staff("concord", "operator")
    staff = staff_member("concord", operator.email)
    alice.client.post(f"/my/live/cameras/{alice.camera_ids[0]}/", {"mode": "always"})
    alice.client.post(f"/my/live/cameras/{alice.camera_ids[1]}/", {"mode": "always"})
    watched = grant_make("concord", alice.camera_ids[0], staff, reason="investigation")
    other = grant_make("concord", alice.camera_ids[1], staff, reason="investigation")
    alice.client.post(f"/my/live/cameras/{alice.camera_ids[0]}/", {"mode": "off"})
    with schema_context("concord"):
        watched.refresh_from_db()
        other.refresh_from_db()
        assert watched.ended_why == Grant.Ended.MODE_CHANGED and watched.ended_at is not None
        assert other.ended_at is None
        end = AuditEntry.objects.get(action=AuditEntry.Action.LIVE_FEED_END)
        assert end.actor_email == operator.email
        assert "Owner changed what is shared" in end.reason
        assert alice.resident.email not in end.reason


def test_saving_the_same_mode_again_ends_nothing(make_resident, site_data, make_staff):
    alice = owner_make(make_resident, site_data)
    staff = staff_member("concord", make_staff("concord", "operator").email)
    alice.client.post(f"/my/live/cameras/{alice.camera_ids[0]}/", {"mode": "always"})
    grant = grant_make("concord", alice.camera_ids[0], staff, reason="investigation")
    alice.client.post(f"/my/live/cameras/{alice.camera_ids[0]}/", {"mode": "always"})
    with schema_context("concord"):
        grant.refresh_from_db()
        assert grant.ended_at is None


def test_emergencies_only_ends_an_investigation_view_and_keeps_an_emergency_one(
    make_resident, site_data, make_staff
):
    alice = owner_make(make_resident, site_data)
    staff = staff_member("concord", make_staff("concord", "operator").email)
    camera = alice.camera_ids[0]
    alice.client.post(f"/my/live/cameras/{camera}/", {"mode": "always"})
    investigation = grant_make("concord", camera, staff, reason="investigation")
    emergency = grant_make("concord", camera, staff, reason="missing_person")
    alice.client.post(f"/my/live/cameras/{camera}/", {"mode": "emergencies"})
    with schema_context("concord"):
        investigation.refresh_from_db()
        emergency.refresh_from_db()
        assert investigation.ended_why == Grant.Ended.MODE_CHANGED
        assert emergency.ended_at is None
