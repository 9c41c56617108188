"""liveview_sweep records the end of every grant past its expiry, at its expiry, once, in every
city; a grant still running is left alone, also when another city's has the same ids."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.models import Grant
from portal.liveview.services import grants_expire
from tests.liveview.ending_fixtures import live_world

pytestmark = pytest.mark.django_db


def sweep() -> str:
    out = io.StringIO()
    call_command("liveview_sweep", stdout=out)
    return out.getvalue()


def test_the_sweep_ends_an_expired_grant_at_its_expiry_once():
    world = live_world("concord", minutes=15)
    other_city = live_world("carrollton", minutes=60)  # the same ids, still running
    for client in (world.client, other_city.client):
        client.get("/department/")  # signed in: only the expiry can end these

    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        output = sweep()
        again = sweep()

    grant = world.grant()
    assert grant.ended_why == Grant.Ended.EXPIRED
    assert grant.ended_at == grant.expires_at
    (entry,) = world.live_feed_ends()
    assert str(Grant.Ended.EXPIRED.label) in entry.reason
    assert "concord: 1 expired grants ended" in output
    assert "concord: 0 expired grants ended" in again
    assert other_city.grant().ended_at is None
    assert other_city.live_feed_ends() == []


def test_a_running_grant_is_left_alone():
    world = live_world("concord", minutes=15)
    world.client.get("/department/")

    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        sweep()

    assert world.grant().ended_at is None
    assert world.live_feed_ends() == []


def test_grants_expire_counts_what_it_ended():
    world = live_world("concord", minutes=15)
    later = timezone.now() + timedelta(minutes=20)
    with schema_context("concord"):
        assert grants_expire(now=later - timedelta(minutes=10)) == 0
        assert grants_expire(now=later) == 1
        assert grants_expire(now=later) == 0
    assert len(world.live_feed_ends()) == 1


def test_the_seconds_watched_stop_at_the_expiry():
    world = live_world("concord", minutes=1, watched_seconds=30)
    with schema_context("concord"):
        # The relay kept serving past the expiry in this record; the end cuts it there.
        Grant.objects.filter(pk=world.grant_pk).update(
            watched_until=timezone.now() + timedelta(minutes=5)
        )

    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        sweep()

    grant = world.grant()
    assert grant.watched_until == grant.expires_at
    assert grant.seconds_watched == 60
