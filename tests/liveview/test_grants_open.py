"""Opening a live view: only staff with the capability, only with a reason from the department's
list and a case number, only while the owner shares the camera; recorded in the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.models import Grant, Sharing
from portal.liveview.services import GrantRefused, grant_open
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry
from tests.liveview.grant_fixtures import IP, actor_of, live_camera, staff_member

pytestmark = pytest.mark.django_db


def open_for(actor, camera, **overrides):
    arguments = {"reason": "active_threat", "case_number": "CPD-26-0142"} | overrides
    return grant_open(actor=actor, camera=camera, **arguments)


def test_an_investigator_opens_a_grant_recorded_in_the_audit_trail():
    with schema_context("concord"):
        live = live_camera()
        staff = staff_member("investigator")
        before = timezone.now()
        grant = open_for(actor_of(staff), live.camera, note="Suspect seen heading north")
        assert grant.staff == staff
        assert grant.staff_email == "investigator@example.org"
        assert grant.staff_role == "investigator"
        assert grant.emergency
        assert grant.ip_address == IP
        # Concord's grants last the department's default, 15 minutes.
        assert timedelta(minutes=15) <= grant.expires_at - before < timedelta(minutes=15, seconds=5)
        assert grant.is_open()
        assert not grant.notice_delayed
        entry = AuditEntry.objects.get(action=AuditEntry.Action.LIVE_FEED)
        assert entry.actor_email == "investigator@example.org"
        assert entry.actor_role == "investigator"
        assert entry.ip_address == IP
        assert entry.site_id == live.site.pk
        assert entry.participant_id == live.site.participant_id
        assert entry.case_number == "CPD-26-0142"
        assert entry.category == "active_threat"
        assert f"camera {live.camera.pk} (Porch)" in entry.reason
        assert entry.note == "Suspect seen heading north"


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Choose the reason for this live view."),
        ("   ", "Choose the reason for this live view."),
        ("burglary", "This reason is not one of the department's live-view reasons."),
        ("ACTIVE_THREAT", "This reason is not one of the department's live-view reasons."),
    ],
)
def test_a_reason_missing_or_not_in_the_list_is_refused(reason, message):
    with schema_context("concord"):
        live = live_camera()
        staff = staff_member()
        with pytest.raises(GrantRefused) as refused:
            open_for(actor_of(staff), live.camera, reason=reason)
        assert refused.value.message == message
        assert not Grant.objects.exists()
        assert not AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED).exists()


def test_a_reason_removed_from_the_department_list_is_refused():
    from tenants.models import Program

    program = Program.objects.get(department__schema_name="concord")
    program.live_reasons = [r for r in program.live_reasons if r["code"] != "investigation"]
    program.save()
    with schema_context("concord"):
        live = live_camera()
        with pytest.raises(GrantRefused):
            open_for(actor_of(staff_member()), live.camera, reason="investigation")
        assert not Grant.objects.exists()


def test_a_case_number_is_required():
    with schema_context("concord"):
        live = live_camera()
        with pytest.raises(GrantRefused) as refused:
            open_for(actor_of(staff_member()), live.camera, case_number="  ")
        assert refused.value.message == "Enter the case number this live view is for."
        assert not Grant.objects.exists()


@pytest.mark.parametrize("role", ["analyst"])
def test_analysts_are_refused(role):
    with schema_context("concord"):
        live = live_camera()
        with pytest.raises(GrantRefused) as refused:
            open_for(actor_of(staff_member(role)), live.camera)
        assert refused.value.message == "Your role may not open live views."
        assert not Grant.objects.exists()


def test_a_deactivated_account_or_a_resident_is_refused():
    with schema_context("concord"):
        live = live_camera()
        staff = staff_member("operator")
        staff.user.is_active = False
        staff.user.save()
        with pytest.raises(GrantRefused):
            open_for(actor_of(staff), live.camera)
        participant = live.site.participant
        with pytest.raises(GrantRefused):
            open_for(Actor.of_participant(participant, IP), live.camera)
        assert not Grant.objects.exists()


def test_an_emergencies_only_camera_needs_an_emergency_reason():
    with schema_context("concord"):
        live = live_camera(mode=Sharing.Mode.EMERGENCIES)
        actor = actor_of(staff_member())
        with pytest.raises(GrantRefused) as refused:
            open_for(actor, live.camera, reason="investigation")
        assert refused.value.message == "The owner shares this camera in emergencies only."
        assert open_for(actor, live.camera, reason="missing_person").emergency


def test_a_camera_not_shared_is_refused_with_why():
    with schema_context("concord"):
        live = live_camera(mode=Sharing.Mode.OFF)
        with pytest.raises(GrantRefused) as refused:
            open_for(actor_of(staff_member()), live.camera)
        assert refused.value.message == "The owner does not share this camera live."


def test_an_emergency_may_delay_the_owner_notice_up_to_72_hours():
    with schema_context("concord"):
        live = live_camera()
        actor = actor_of(staff_member())
        grant = open_for(actor, live.camera, notice_delay_hours=72)
        assert grant.notice_delayed
        assert grant.notice_after - grant.opened_at == timedelta(hours=72)
        assert (
            "owner's notice delayed"
            in AuditEntry.objects.get(action=AuditEntry.Action.LIVE_FEED).reason
        )
        with pytest.raises(GrantRefused):
            open_for(actor, live.camera, notice_delay_hours=73)
        with pytest.raises(GrantRefused):
            open_for(actor, live.camera, notice_delay_hours=-1)
        with pytest.raises(GrantRefused) as refused:
            open_for(actor, live.camera, reason="investigation", notice_delay_hours=1)
        assert refused.value.message == "Only an emergency reason can delay the owner's notice."
        assert Grant.objects.count() == 1


def test_a_note_naming_the_owner_writes_nothing():
    with schema_context("concord"):
        live = live_camera()
        with pytest.raises(GrantRefused):
            open_for(actor_of(staff_member()), live.camera, note="Call alice moreno first")
        assert not Grant.objects.exists()
        assert not AuditEntry.objects.exists()
