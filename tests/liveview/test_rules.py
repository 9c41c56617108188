"""The one rule for "staff may watch this camera now": each sharing mode, the owner's pauses,
the device, and scheduled hours read in the city's time zone, across midnight."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview import rules
from portal.liveview.models import Device, LivePreferences, Sharing
from portal.liveview.rules import camera_live_state, sharing_allows
from portal.registry.models import Camera, Participant, Site
from tests.liveview.grant_fixtures import heartbeat, live_camera

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
# Friday 22:00 to 06:00 the next morning, in the city's time.
FRIDAY_NIGHTS = [{"days": [4], "start": "22:00", "end": "06:00"}]


def state(camera: Camera, emergency: bool | None = None) -> rules.LiveState:
    fresh = Camera.objects.select_related(*rules.LIVE_STATE_RELATED).get(pk=camera.pk)
    return camera_live_state(fresh, emergency=emergency)


def test_a_camera_shared_always_is_shareable_for_any_reason():
    with schema_context("concord"):
        live = live_camera(mode=Sharing.Mode.ALWAYS)
        for emergency in (True, False, None):
            answer = state(live.camera, emergency)
            assert answer.shareable
            assert answer.device == live.device
            assert answer.channel == live.channel


def test_a_camera_shared_off_or_without_a_setting_is_not_shareable():
    with schema_context("concord"):
        live = live_camera(mode=Sharing.Mode.OFF)
        assert state(live.camera, True).code == rules.SHARING_OFF
        Sharing.objects.filter(camera=live.camera).delete()
        answer = state(live.camera, True)
        assert not answer.shareable
        assert answer.why_not == "The owner does not share this camera live."


def test_emergencies_only_needs_an_emergency_reason():
    with schema_context("concord"):
        live = live_camera(mode=Sharing.Mode.EMERGENCIES)
        assert state(live.camera, True).shareable
        refused = state(live.camera, False)
        assert not refused.shareable
        assert refused.code == rules.EMERGENCY_ONLY
        # Asked for any reason (the staff list), it counts, marked for emergencies only.
        listed = state(live.camera, None)
        assert listed.shareable
        assert listed.emergency_only


@pytest.mark.parametrize(
    ("local", "shareable"),
    [
        (datetime(2026, 11, 27, 21, 59), False),  # Friday, before the span
        (datetime(2026, 11, 27, 22, 0), True),  # Friday, its start
        (datetime(2026, 11, 27, 23, 30), True),
        (datetime(2026, 11, 28, 0, 30), True),  # past midnight: Saturday belongs to Friday's span
        (datetime(2026, 11, 28, 5, 59), True),
        (datetime(2026, 11, 28, 6, 0), False),  # its end
        (datetime(2026, 11, 27, 3, 0), False),  # Friday early: Thursday's night is not shared
        (datetime(2026, 11, 28, 23, 0), False),  # Saturday night
    ],
)
def test_scheduled_hours_are_read_in_the_city_time_zone_across_midnight(local, shareable):
    with schema_context("concord"):
        live = live_camera(mode=Sharing.Mode.SCHEDULED, schedule=FRIDAY_NIGHTS)
        with time_machine.travel(local.replace(tzinfo=NEW_YORK), tick=False):
            heartbeat(live)
            answer = state(live.camera, False)
    assert answer.shareable is shareable
    if not shareable:
        assert answer.code == rules.OUTSIDE_HOURS


def test_scheduled_hours_are_not_read_in_utc():
    # Friday 23:00 in Concord is Saturday 04:00 UTC: inside the span only in the city's time.
    sharing = Sharing(mode=Sharing.Mode.SCHEDULED, schedule=FRIDAY_NIGHTS)
    moment = datetime(2026, 11, 27, 23, 0, tzinfo=NEW_YORK)
    assert sharing_allows(sharing, now=moment, time_zone="America/New_York", emergency=False)
    daytime = datetime(2026, 11, 27, 15, 0, tzinfo=NEW_YORK)  # 20:00 UTC, 22:00 in Kyiv
    assert not sharing_allows(sharing, now=daytime, time_zone="America/New_York", emergency=False)
    assert sharing_allows(sharing, now=daytime, time_zone="Europe/Kyiv", emergency=False)


def test_a_malformed_schedule_shares_nothing():
    sharing = Sharing(
        mode=Sharing.Mode.SCHEDULED,
        schedule=[{"days": "x"}, {"days": [4], "start": "25:00", "end": "1"}, "junk", None],
    )
    now = datetime(2026, 11, 27, 23, 0, tzinfo=NEW_YORK)
    assert not sharing_allows(sharing, now=now, time_zone="America/New_York", emergency=True)


def test_the_owner_pauses_and_the_device_decide_too():
    with schema_context("concord"):
        live = live_camera()
        participant = live.site.participant
        LivePreferences.objects.create(participant=participant, paused=True)
        assert state(live.camera).code == rules.OWNER_PAUSED
        LivePreferences.objects.filter(participant=participant).update(paused=False)
        Camera.objects.filter(pk=live.camera.pk).update(paused=True)
        assert state(live.camera).code == rules.CAMERA_PAUSED
        Camera.objects.filter(pk=live.camera.pk).update(paused=False)
        Site.objects.filter(pk=live.site.pk).update(paused=True)
        assert state(live.camera).code == rules.SITE_PAUSED
        Site.objects.filter(pk=live.site.pk).update(paused=False)
        Device.objects.filter(pk=live.device.pk).update(paused_on_device=True)
        assert state(live.camera).code == rules.DEVICE_PAUSED
        Device.objects.filter(pk=live.device.pk).update(
            paused_on_device=False, last_heartbeat_at=timezone.now() - timedelta(minutes=11)
        )
        assert state(live.camera).code == rules.DEVICE_OFFLINE
        Device.objects.filter(pk=live.device.pk).update(
            last_heartbeat_at=timezone.now(), revoked_at=timezone.now()
        )
        assert state(live.camera).code == rules.DEVICE_REVOKED
        Device.objects.filter(pk=live.device.pk).update(revoked_at=None)
        Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.LAPSED)
        assert state(live.camera).code == rules.LAPSED
        Participant.objects.filter(pk=participant.pk).update(status=Participant.Status.ACTIVE)
        Site.objects.filter(pk=live.site.pk).update(participation=Site.Participation.REGISTERED)
        assert state(live.camera).code == rules.NOT_INTEGRATED
        Site.objects.filter(pk=live.site.pk).update(participation=Site.Participation.INTEGRATED)
        live.channel.camera = None
        live.channel.save()
        assert state(live.camera).code == rules.NO_CHANNEL


def test_why_not_is_in_the_user_language():
    from django.utils import translation

    with schema_context("concord"):
        live = live_camera(mode=Sharing.Mode.OFF)
        with translation.override("es"):
            answer = state(live.camera, True)
    assert answer.why_not != "The owner does not share this camera live."
