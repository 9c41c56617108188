"""How grants end: at their expiry (the relay's next request or the sweep), renewed with the
reason again, closed by the viewer, or when the owner, the account or the capability ends them;
each with its LIVE_FEED_END entry (seconds watched, why)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django_tenants.utils import schema_context

from portal.liveview.media import MediaRefused, media_authorize, media_token
from portal.liveview.models import Grant, LivePreferences
from portal.liveview.services import (
    GrantRefused,
    grant_close,
    grant_open,
    grant_renew,
    grants_expire,
)
from portal.registry.models import AuditEntry
from tests.liveview.grant_fixtures import actor_of, live_camera, staff_member

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def opened(live, staff, **overrides):
    arguments = {"reason": "active_threat", "case_number": "CPD-1"} | overrides
    return grant_open(actor=actor_of(staff), camera=live.camera, **arguments)


def read(grant, camera_id=None):
    return media_authorize(
        action="read",
        path=f"camera/{camera_id or grant.camera_id}",
        token=media_token(grant),
    )


def stop_entries():
    return AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED_END)


def test_at_expiry_media_is_refused_and_the_stop_entry_has_the_seconds_watched():
    with schema_context("concord"):
        with time_machine.travel(T0, tick=False) as clock:
            live = live_camera()
            grant = opened(live, staff_member())
            clock.shift(10)
            assert read(grant)["grant"] == grant.pk
            clock.shift(60)
            assert read(grant)["expires_at"] == grant.expires_at.isoformat()
            clock.shift(timedelta(minutes=15))
            with pytest.raises(MediaRefused) as refused:
                read(grant)
            assert refused.value.status == 403
            assert refused.value.message == "grant ended: expired"
        grant.refresh_from_db()
        assert grant.ended_why == Grant.Ended.EXPIRED
        assert grant.ended_at == grant.expires_at
        assert grant.seconds_watched == 60
        entry = stop_entries().get()
        assert "Time limit reached" in entry.reason
        assert "60 s watched" in entry.reason
        assert entry.actor_email == grant.staff_email
        assert entry.case_number == "CPD-1"
        assert entry.category == "active_threat"
        assert entry.site_id == live.site.pk
        # Asked again, still refused; no second stop entry.
        with pytest.raises(MediaRefused):
            read(grant)
        assert stop_entries().count() == 1


def test_the_sweep_ends_expired_grants_once():
    with schema_context("concord"):
        with time_machine.travel(T0, tick=False) as clock:
            live = live_camera()
            staff = staff_member()
            old = opened(live, staff)
            clock.shift(timedelta(minutes=10))
            young = opened(live, staff)
            clock.shift(timedelta(minutes=6))
            assert grants_expire() == 1
            assert grants_expire() == 0
        old.refresh_from_db()
        young.refresh_from_db()
        assert old.ended_why == Grant.Ended.EXPIRED
        assert young.ended_at is None
        assert stop_entries().count() == 1


def test_renewing_needs_the_reason_again_and_chains_the_grants():
    with schema_context("concord"):
        live = live_camera()
        staff = staff_member()
        grant = opened(live, staff)
        with pytest.raises(GrantRefused) as refused:
            grant_renew(actor=actor_of(staff), grant=grant, reason="", case_number="CPD-1")
        assert refused.value.message == "Choose the reason for this live view."
        grant.refresh_from_db()
        assert grant.is_open()
        renewed = grant_renew(
            actor=actor_of(staff), grant=grant, reason="crime_in_progress", case_number="CPD-1"
        )
        grant.refresh_from_db()
        assert grant.ended_why == Grant.Ended.RENEWED
        assert renewed.renewed_from == grant
        assert renewed.reason == "crime_in_progress"
        assert renewed.is_open()
        assert AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED).count() == 2
        assert "Renewed" in stop_entries().get().reason
        # The old grant's token is dead; the new one's works.
        with pytest.raises(MediaRefused):
            read(grant)
        assert read(renewed)["grant"] == renewed.pk


def test_only_the_viewer_renews_or_closes_their_grant():
    with schema_context("concord"):
        live = live_camera()
        grant = opened(live, staff_member("investigator"))
        other = staff_member("operator")
        with pytest.raises(GrantRefused):
            grant_renew(actor=actor_of(other), grant=grant, reason="active_threat", case_number="1")
        with pytest.raises(GrantRefused):
            grant_close(actor=actor_of(other), grant=grant)
        grant.refresh_from_db()
        assert grant.is_open()


def test_closing_ends_the_grant_and_records_the_stop():
    with schema_context("concord"):
        live = live_camera()
        staff = staff_member()
        grant = opened(live, staff)
        read(grant)
        closed = grant_close(actor=actor_of(staff), grant=grant)
        assert closed.ended_why == Grant.Ended.CLOSED
        assert "Closed by the viewer" in stop_entries().get().reason
        with pytest.raises(MediaRefused):
            read(grant)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ("owner_pause", Grant.Ended.OWNER_PAUSED),
        ("mode_off", Grant.Ended.MODE_CHANGED),
        ("deactivated", Grant.Ended.DEACTIVATED),
        ("analyst", Grant.Ended.CAPABILITY_LOST),
        ("lapsed", Grant.Ended.LAPSED),
        ("revoked", Grant.Ended.DEVICE_REVOKED),
    ],
)
def test_what_ends_a_grant_is_noticed_at_the_next_media_request(change, why):
    from django.utils import timezone

    from portal.liveview.models import Device, Sharing
    from portal.registry.models import Site, StaffMember

    with schema_context("concord"):
        live = live_camera()
        staff = staff_member("operator")
        grant = opened(live, staff)
        read(grant)
        if change == "owner_pause":
            LivePreferences.objects.create(participant=live.site.participant, paused=True)
        elif change == "mode_off":
            Sharing.objects.filter(camera=live.camera).update(mode=Sharing.Mode.OFF)
        elif change == "deactivated":
            type(staff.user).objects.filter(pk=staff.user_id).update(is_active=False)
        elif change == "analyst":
            StaffMember.objects.filter(pk=staff.pk).update(role="analyst")
        elif change == "lapsed":
            Site.objects.filter(pk=live.site.pk).update(participation="registered")
        elif change == "revoked":
            Device.objects.filter(pk=live.device.pk).update(revoked_at=timezone.now())
        with pytest.raises(MediaRefused) as refused:
            read(grant)
        assert refused.value.status == 403
        grant.refresh_from_db()
        assert grant.ended_why == why
        assert stop_entries().count() == 1


def test_an_offline_device_refuses_media_but_keeps_the_grant():
    from django.utils import timezone

    from portal.liveview.models import Device

    with schema_context("concord"):
        live = live_camera()
        grant = opened(live, staff_member())
        Device.objects.filter(pk=live.device.pk).update(
            last_heartbeat_at=timezone.now() - timedelta(hours=1)
        )
        with pytest.raises(MediaRefused) as refused:
            read(grant)
        assert refused.value.status == 403
        grant.refresh_from_db()
        assert grant.ended_at is None
        assert not stop_entries().exists()


def test_the_token_names_its_city():
    with schema_context("concord"):
        live = live_camera()
        token = media_token(opened(live, staff_member()))
    with schema_context("carrollton"):
        assert connection.schema_name == "carrollton"
        with pytest.raises(MediaRefused) as refused:
            media_authorize(action="read", path=f"camera/{live.camera.pk}", token=token)
        assert refused.value.status == 401
