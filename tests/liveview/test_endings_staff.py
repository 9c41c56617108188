"""A grant ends when its viewer signs out (the sign-out button, or a session that ran out),
loses the live-view capability, or has their account deactivated: each ends it with its own
reason and exactly one LIVE_FEED_END entry; another city's grant with the same ids goes on."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from portal.liveview.models import Grant
from tests.liveview.ending_fixtures import live_world, viewer_make

pytestmark = pytest.mark.django_db


def assert_ended_once(world, why: str) -> None:
    grant = world.grant()
    assert grant.ended_why == why
    assert grant.ended_at is not None
    (entry,) = world.live_feed_ends()
    assert entry.actor_email == world.viewer_email
    assert entry.case_number == grant.case_number
    assert f"{grant.seconds_watched} s watched" in entry.reason
    assert str(Grant.Ended(why).label) in entry.reason


def test_signing_out_ends_the_viewers_grant(concord_client):
    world = live_world("concord")
    other_city = live_world("carrollton")  # the very same ids in Carrollton

    response = world.client.post("/accounts/logout/")

    assert response.status_code == 302
    assert_ended_once(world, Grant.Ended.SIGNED_OUT)
    assert other_city.grant().ended_at is None
    assert other_city.live_feed_ends() == []


def test_a_role_without_live_view_ends_the_grant(make_staff):
    world = live_world("concord")
    other_city = live_world("carrollton")
    admin = make_staff("concord", "administrator")

    response = admin.client.post(f"/department/staff/{world.staff_pk}/role/", {"role": "analyst"})

    assert response.status_code == 302
    assert_ended_once(world, Grant.Ended.CAPABILITY_LOST)
    (entry,) = world.live_feed_ends()
    assert f"by {admin.email}" in entry.reason
    assert other_city.grant().ended_at is None


def test_a_role_that_keeps_live_view_keeps_the_grant(make_staff):
    world = live_world("concord", role="operator")
    admin = make_staff("concord", "administrator")

    admin.client.post(f"/department/staff/{world.staff_pk}/role/", {"role": "investigator"})

    assert world.grant().ended_at is None
    assert world.live_feed_ends() == []


def test_deactivating_the_viewer_ends_the_grant_and_their_session(make_staff):
    world = live_world("concord")
    other_city = live_world("carrollton")
    admin = make_staff("concord", "administrator")
    assert world.client.get("/department/").status_code == 200

    response = admin.client.post(f"/department/staff/{world.staff_pk}/deactivate/")

    assert response.status_code == 302
    assert_ended_once(world, Grant.Ended.DEACTIVATED)
    # Signed out at once: the next page asks for a sign-in.
    assert world.client.get("/department/")["Location"].startswith("/accounts/login/")
    assert other_city.grant().ended_at is None
    assert other_city.client.get("/department/").status_code == 200


def test_a_session_that_ran_out_ends_the_grant_at_the_next_request():
    world = live_world("concord", minutes=60)
    other_city = live_world("carrollton", minutes=60)
    world.client.get("/department/")  # the idle clock starts
    other_city.client.get("/department/")

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = world.client.get("/department/")

        assert response["Location"].startswith("/accounts/login/")
        assert_ended_once(world, Grant.Ended.SIGNED_OUT)
        # Once: the expired session is gone, a second request finds nothing to end.
        world.client.get("/department/")
        assert len(world.live_feed_ends()) == 1
    assert other_city.grant().ended_at is None


def test_a_session_that_ran_out_unnoticed_ends_the_grant_at_the_sweep():
    world = live_world("concord", minutes=60)
    world.client.get("/department/")

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        call_command("liveview_sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert_ended_once(world, Grant.Ended.SIGNED_OUT)


def test_another_session_of_the_same_viewer_keeps_the_grant():
    world = live_world("concord", minutes=60)
    world.client.get("/department/")
    second_browser = Client(HTTP_HOST="concord.localhost")
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        from django.contrib.auth import get_user_model
        from django_tenants.utils import schema_context

        with schema_context("concord"):
            second_browser.force_login(get_user_model().objects.get(pk=world.staff_pk))
        second_browser.get("/department/")

    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        world.client.get("/department/")
        call_command("liveview_sweep", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert world.grant().ended_at is None


def test_a_staff_member_without_grants_signs_out_quietly():
    client = viewer_make("concord", pk=71_000, role="operator", email="quiet@concord.example.org")
    assert client.post("/accounts/logout/").status_code == 302
