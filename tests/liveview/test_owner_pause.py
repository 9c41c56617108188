"""Pause everything at once: every open view of the owner's cameras ends in the same request
(the relay's next check, within a second, stops the picture), with its audit stop entry;
resuming opens nothing. And the owner's choice of notices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.models import Grant, LivePreferences
from portal.liveview.owner import live_pause_set
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry
from tests.liveview.owner_fixtures import grant_make, owner_make, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def watched(make_resident, site_data, make_staff):
    """Alice's two cameras watched now by an operator (one for 40 s already), a view of hers
    that already expired, and Bob's camera watched too."""
    alice = owner_make(make_resident, site_data)
    bob = owner_make(make_resident, site_data, email="bob@example.org", cameras=1)
    staff = staff_member("concord", make_staff("concord", "operator").email)
    now = timezone.now()
    grants = {
        "first": grant_make(
            "concord",
            alice.camera_ids[0],
            staff,
            opened_at=now - timedelta(seconds=41),
            watched_seconds=40,
        ),
        "second": grant_make("concord", alice.camera_ids[1], staff, case_number="CPD-2"),
        "expired": grant_make(
            "concord", alice.camera_ids[1], staff, opened_at=now - timedelta(hours=1)
        ),
        "bobs": grant_make("concord", bob.camera_ids[0], staff),
    }
    return alice, bob, grants


def refreshed(grant: Grant) -> Grant:
    with schema_context("concord"):
        return Grant.objects.get(pk=grant.pk)


def test_pausing_ends_every_open_view_of_the_owners_cameras_at_once(watched):
    alice, _bob, grants = watched
    response = alice.client.post("/my/live/pause/")
    assert response.status_code == 302
    for name in ("first", "second"):
        grant = refreshed(grants[name])
        assert grant.ended_why == Grant.Ended.OWNER_PAUSED
        assert grant.ended_at is not None and not grant.is_open()
    assert refreshed(grants["expired"]).ended_at is None, "an expired view is the sweep's"
    assert refreshed(grants["bobs"]).is_open(), "another owner's camera stays watched"
    with schema_context("concord"):
        stops = AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED_END).order_by("pk")
        assert stops.count() == 2
        assert {entry.case_number for entry in stops} == {"CPD-2026-0777", "CPD-2"}
        assert {entry.participant_id for entry in stops} == {alice.resident.participant.pk}
        first = stops.get(case_number="CPD-2026-0777")
        assert "Owner paused sharing" in first.reason and "40 s watched" in first.reason
        assert alice.resident.email not in first.reason
        preferences = LivePreferences.objects.get(participant__user__email=alice.resident.email)
        assert preferences.paused and preferences.paused_at is not None


def test_the_page_shows_the_pause_and_resuming_opens_nothing(watched):
    alice, _bob, grants = watched
    alice.client.post("/my/live/pause/")
    page = alice.client.get("/my/live/").content.decode()
    assert "Live sharing is paused" in page and "Resume live sharing" in page
    response = alice.client.post("/my/live/resume/")
    assert response.status_code == 302
    with schema_context("concord"):
        preferences = LivePreferences.objects.get(participant__user__email=alice.resident.email)
        assert not preferences.paused
        assert not Grant.objects.open().filter(camera__site_id=alice.site_id).exists()
    assert refreshed(grants["first"]).ended_why == Grant.Ended.OWNER_PAUSED
    assert "Pause all live sharing" in alice.client.get("/my/live/").content.decode()


def test_pausing_twice_keeps_the_first_time_and_writes_no_second_stop(watched):
    alice, _bob, _grants = watched
    alice.client.post("/my/live/pause/")
    with schema_context("concord"):
        first = LivePreferences.objects.get().paused_at
    alice.client.post("/my/live/pause/")
    with schema_context("concord"):
        assert LivePreferences.objects.get().paused_at == first
        assert AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED_END).count() == 2


def test_only_the_owner_pauses_their_cameras(watched):
    alice, bob, grants = watched
    with schema_context("concord"), pytest.raises(PermissionDenied):
        live_pause_set(
            actor=Actor.of_participant(bob.resident.participant, None),
            participant=alice.resident.participant,
            paused=True,
        )
    assert refreshed(grants["first"]).is_open()


def test_a_visitor_is_sent_to_sign_in_and_gets_nothing_changed(host_client):
    client = host_client("concord.localhost")
    assert client.post("/my/live/pause/").status_code == 302
    assert client.get("/my/live/")["Location"].startswith("/accounts/login/")
    with schema_context("concord"):
        assert not LivePreferences.objects.exists()


def test_staff_have_no_owner_page(make_staff):
    staff = make_staff("concord", "operator")
    assert staff.client.get("/my/live/").status_code == 403
    assert staff.client.post("/my/live/pause/").status_code == 403
