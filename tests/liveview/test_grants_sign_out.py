"""Signing out ends the staff member's open grants; the sweep command ends expired ones in
every city."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.models import Grant
from portal.liveview.services import grant_open
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, StaffMember
from tests.liveview.grant_fixtures import actor_of, live_camera, staff_member

pytestmark = pytest.mark.django_db


def test_signing_out_ends_the_open_grants_of_the_staff_member(make_staff):
    investigator = make_staff("concord", "investigator")
    with schema_context("concord"):
        live = live_camera()
        staff = StaffMember.objects.select_related("user").get(user__email=investigator.email)
        mine = grant_open(
            actor=Actor.of_staff(staff, None),
            camera=live.camera,
            reason="active_threat",
            case_number="1",
        )
        theirs = grant_open(
            actor=actor_of(staff_member("operator")),
            camera=live.camera,
            reason="active_threat",
            case_number="2",
        )
    assert investigator.client.post("/accounts/logout/").status_code == 302
    with schema_context("concord"):
        mine.refresh_from_db()
        theirs.refresh_from_db()
        assert mine.ended_why == Grant.Ended.SIGNED_OUT
        assert theirs.ended_at is None
        stop = AuditEntry.objects.get(action=AuditEntry.Action.LIVE_FEED_END)
        assert "Viewer signed out" in stop.reason


def test_the_sweep_command_ends_expired_grants_in_every_city():
    grants = {}
    for city in ("concord", "carrollton"):
        with schema_context(city):
            live = live_camera()
            grants[city] = grant_open(
                actor=actor_of(staff_member()),
                camera=live.camera,
                reason="active_threat",
                case_number="1",
            )
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        call_command("liveview_sweep")
    for city, grant in grants.items():
        with schema_context(city):
            grant.refresh_from_db()
            assert grant.ended_why == Grant.Ended.EXPIRED
            assert AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED_END).count() == 1
