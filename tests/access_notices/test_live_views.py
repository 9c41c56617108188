"""Live views are told like every other access (issue 13, point 5): from the grant's LIVE_FEED
entry, at once or in the weekly summary as the owner chose, with the reason and case number,
held back by an emergency (at most 72 hours, stated) or by the case's investigation delay, and
never twice, including for grants live view's former notices had already told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.access_notices.models import AccessNotice, NoticePreference
from portal.access_notices.services import notice_delay_set, week_start
from portal.liveview import services
from portal.liveview.models import Grant
from portal.registry.models import AuditEntry
from tenants.models import Department
from tests.access_notices.helpers import actor_of, incident_open, notices_to, run
from tests.liveview.grant_fixtures import LiveCamera, live_camera, staff_member
from tests.liveview.grant_fixtures import actor_of as grant_actor_of

pytestmark = pytest.mark.django_db

OWNER = "ruth.live@example.org"
WATCHED = "Police watched one of your cameras live"


@pytest.fixture
def watched() -> tuple[LiveCamera, object]:
    """Ruth's porch camera, shared always, and an investigator who may watch it."""
    with schema_context("concord"):
        return live_camera(email=OWNER), staff_member(email="det.lowe@concord.example.org")


def open_view(live: LiveCamera, staff: object, **options: object) -> Grant:
    with schema_context("concord"):
        options = {"reason": "active_threat", "case_number": "CPD-2026-0901"} | options
        return services.grant_open(
            actor=grant_actor_of(staff),  # type: ignore[arg-type]
            camera=live.camera,
            **options,  # type: ignore[arg-type]
        )


def test_a_live_view_is_told_at_once_with_its_reason_and_case_and_only_once(watched):
    live, staff = watched
    grant = open_view(live, staff)
    with schema_context("concord"):
        entry = AuditEntry.objects.get(action=AuditEntry.Action.LIVE_FEED)
        assert Grant.objects.get(pk=grant.pk).audit_entry_id == entry.pk

    assert run() == "1 notices collected, 1 emails sent"
    run()
    (message,) = notices_to(OWNER)
    assert message.subject.startswith(WATCHED)
    assert "Reason: Active threat, case CPD-2026-0901." in message.body
    assert "det.lowe" not in message.body and "investigator" not in message.body.lower()
    # Live view no longer sends a notice of its own: this is the only email.
    assert [m for m in mail.outbox if m.to == [OWNER]] == [message]


def test_an_emergency_hold_delays_the_notice_and_the_email_states_it(watched):
    live, staff = watched
    open_view(live, staff, notice_delay_hours=24)
    now = timezone.now()
    run(now=now)
    run(now=now + timedelta(hours=23))
    assert notices_to(OWNER) == []
    run(now=now + timedelta(hours=24, minutes=5))
    (message,) = notices_to(OWNER)
    assert (
        "This notice was delayed 24 hours: the department gave an emergency as the reason."
        in message.body
    )


def test_the_case_s_investigation_delay_holds_a_live_view_of_that_case(
    watched, make_staff, host_client
):
    live, staff = watched
    owner = host_client("concord.localhost")
    with schema_context("concord"):
        owner.force_login(live.site.participant.user)
    investigator = make_staff("concord", "investigator", email="det.ames@concord.example.org")
    incident = incident_open("concord", investigator.email, case_number="CPD-2026-0902")
    with schema_context("concord"):
        notice_delay_set(
            actor=actor_of("concord", investigator.email),
            incident=incident,
            days=10,
            reason="Suspect not yet interviewed",
        )
    open_view(live, staff, reason="investigation", case_number="CPD-2026-0902")
    now = timezone.now()
    run(now=now)
    run(now=now + timedelta(days=9))
    assert notices_to(OWNER) == []
    # Nor does the owner's access history show it while the case's delay holds.
    history = owner.get("/my/access/").content.decode()
    assert "CPD-2026-0902" not in history and "Porch" not in history
    with schema_context("concord"):
        notice = AccessNotice.objects.get(action=AuditEntry.Action.LIVE_FEED)
        assert notice.incident_id == incident.pk and notice.delay is not None
    run(now=now + timedelta(days=10, minutes=5))
    (message,) = notices_to(OWNER)
    assert "This notice was delayed 10 days for an open investigation." in message.body
    assert "Reason: Investigation follow-up, case CPD-2026-0902." in message.body
    assert "CPD-2026-0902" in owner.get("/my/access/").content.decode()


def test_a_weekly_owner_reads_live_views_in_the_summary(watched):
    live, staff = watched
    with schema_context("concord"):
        NoticePreference.objects.create(
            participant=live.site.participant, frequency=NoticePreference.Frequency.WEEKLY
        )
    open_view(live, staff)
    open_view(live, staff, case_number="CPD-2026-0903")
    now = timezone.now()
    run(now=now)
    assert notices_to(OWNER) == []
    next_monday = week_start(now, Department.objects.get(schema_name="concord")) + timedelta(
        days=7, minutes=30
    )
    run(now=next_monday)
    run(now=next_monday + timedelta(minutes=5))
    (digest,) = notices_to(OWNER)
    assert digest.body.count(WATCHED) == 2
    assert "CPD-2026-0901" in digest.body and "CPD-2026-0903" in digest.body


def test_a_grant_live_view_s_former_notices_told_is_not_told_again(watched):
    live, staff = watched
    grant = open_view(live, staff)
    with schema_context("concord"):
        Grant.objects.filter(pk=grant.pk).update(owner_notified_at=timezone.now())
    run()
    assert notices_to(OWNER) == []
    with schema_context("concord"):
        assert AccessNotice.objects.get().skipped == AccessNotice.Skipped.LIVE_VIEW_NOTICE


def test_the_owner_s_live_page_points_to_their_choice_of_notices(make_resident, site_data):
    from tests.liveview.owner_fixtures import owner_make

    alice = owner_make(make_resident, site_data)
    page = alice.client.get("/my/live/").content.decode()
    assert 'href="/my/notices/"' in page
    assert 'name="notify"' not in page
    assert alice.client.post("/my/live/notices/", {"notify": "daily"}).status_code == 404


def test_a_spanish_speaking_owner_is_told_of_the_emergency_hold_in_spanish(watched):
    live, staff = watched
    with schema_context("concord"):
        type(live.site.participant).objects.filter(pk=live.site.participant_id).update(
            language="es"
        )
    open_view(live, staff, notice_delay_hours=2)
    run(now=timezone.now() + timedelta(hours=2, minutes=5))
    (message,) = notices_to(OWNER)
    assert "Este aviso se retrasó 2 horas: el departamento indicó una emergencia" in message.body
    assert "caso CPD-2026-0901" in message.body
