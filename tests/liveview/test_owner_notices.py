"""Owners are told of each live view by email in their language: at once (a delayed notice once
its delay has passed) or in one summary a day, as they chose; never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django_tenants.utils import schema_context

from portal.liveview.models import Grant, LivePreferences
from portal.liveview.owner import live_notices_send
from tests.liveview.owner_fixtures import grant_make, owner_make, staff_member

pytestmark = pytest.mark.django_db

# 21:30 on 19 November in Concord (America/New_York).
OPENED = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)


@pytest.fixture
def operator(make_staff):
    return staff_member("concord", make_staff("concord", "operator").email)


def send(now: datetime, schema_name: str = "concord") -> int:
    with schema_context(schema_name):
        return live_notices_send(now=now)


def test_an_owner_is_emailed_once_at_each_view(make_resident, site_data, operator):
    alice = owner_make(make_resident, site_data)
    grant = grant_make(
        "concord", alice.camera_ids[0], operator, case_number="CPD-2026-0500", opened_at=OPENED
    )
    assert send(OPENED + timedelta(seconds=30)) == 1
    assert send(OPENED + timedelta(seconds=90)) == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [alice.resident.email]
    assert "“Camera 1” was opened live by police" in message.subject
    assert "Real-time crime center operator, Concord Police Department" in message.body
    assert "Active threat, case CPD-2026-0500" in message.body
    assert "http://concord.localhost" in message.body and "/my/live/" in message.body
    assert "/my/access/" in message.body
    assert operator.user.email not in message.body
    with schema_context("concord"):
        grant.refresh_from_db()
        assert grant.owner_notified_at == OPENED + timedelta(seconds=30)


def test_the_command_runs_for_every_department_and_sends_nothing_twice(
    make_resident, site_data, operator, make_staff
):
    alice = owner_make(make_resident, site_data)
    carla = owner_make(make_resident, site_data, "carrollton", email="carla@example.org")
    grant_make("concord", alice.camera_ids[0], operator)
    grant_make(
        "carrollton",
        carla.camera_ids[0],
        staff_member("carrollton", make_staff("carrollton", "operator").email),
    )
    call_command("liveview_notices", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("liveview_notices", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert sorted(message.to[0] for message in mail.outbox) == [
        "alice@example.org",
        "carla@example.org",
    ]
    carrollton = next(m for m in mail.outbox if m.to == ["carla@example.org"])
    assert "Carrollton Police Department" in carrollton.body


def test_a_delayed_notice_waits_for_its_time_and_then_states_the_delay(
    make_resident, site_data, operator
):
    alice = owner_make(make_resident, site_data)
    grant_make(
        "concord",
        alice.camera_ids[0],
        operator,
        opened_at=OPENED,
        watched_seconds=120,
        notice_delay=timedelta(hours=24),
    )
    assert send(OPENED + timedelta(hours=23)) == 0
    assert mail.outbox == []
    with time_machine.travel(OPENED + timedelta(hours=24, minutes=1), tick=False):
        assert send(OPENED + timedelta(hours=24, minutes=1)) == 1
    body = mail.outbox[0].body
    assert "Notice delayed by the department until" in body
    assert "Watched for 120 seconds." in body
    assert "Time limit reached" in body


def test_a_spanish_speaking_owner_is_told_in_spanish(make_resident, site_data, operator):
    alice = owner_make(make_resident, site_data, language="es")
    grant_make("concord", alice.camera_ids[0], operator, opened_at=OPENED)
    assert send(OPENED + timedelta(minutes=1)) == 1
    message = mail.outbox[0]
    assert "fue abierta en vivo por la policía" in message.subject
    assert "Por: Operador del centro de crimen en tiempo real, Concord" in message.body
    assert "caso CPD-2026-0777" in message.body


def test_a_daily_summary_lists_the_days_views_once_a_day(make_resident, site_data, operator):
    alice = owner_make(make_resident, site_data)
    alice.client.post("/my/live/notices/", {"notify": "daily"})
    bob = owner_make(make_resident, site_data, email="bob@example.org", cameras=1)
    grant_make("concord", alice.camera_ids[0], operator, case_number="A-1", opened_at=OPENED)
    grant_make(
        "concord",
        alice.camera_ids[1],
        operator,
        case_number="A-2",
        opened_at=OPENED + timedelta(minutes=20),
    )
    grant_make("concord", bob.camera_ids[0], operator, case_number="B-1", opened_at=OPENED)
    # The same evening: Bob (at once) hears now, Alice waits for her summary.
    assert send(OPENED + timedelta(hours=1)) == 1
    assert [message.to for message in mail.outbox] == [["bob@example.org"]]
    # After midnight in Concord: one summary of both views; again later that day, nothing.
    after_midnight = datetime(2026, 11, 20, 5, 10, tzinfo=UTC)
    grant_make(
        "concord", alice.camera_ids[0], operator, case_number="A-3", opened_at=after_midnight
    )
    assert send(after_midnight + timedelta(minutes=1)) == 1
    assert send(after_midnight + timedelta(hours=12)) == 0
    summary = mail.outbox[1]
    assert summary.to == [alice.resident.email]
    assert "2 live views of your cameras by police" in summary.subject
    assert "case A-1" in summary.body and "case A-2" in summary.body
    assert "A-3" not in summary.body, "today's view waits for tomorrow's summary"
    # The next day's summary holds the rest, once.
    next_day = after_midnight + timedelta(days=1)
    assert send(next_day) == 1
    assert send(next_day + timedelta(minutes=5)) == 0
    assert "case A-3" in mail.outbox[2].body and "A-1" not in mail.outbox[2].body
    with schema_context("concord"):
        assert not Grant.objects.filter(owner_notified_at__isnull=True).exists()
        preferences = LivePreferences.objects.get(participant__user__email=alice.resident.email)
        assert preferences.summary_sent_until is not None


def test_a_day_without_views_sends_no_summary(make_resident, site_data):
    alice = owner_make(make_resident, site_data)
    alice.client.post("/my/live/notices/", {"notify": "daily"})
    assert send(OPENED) == 0
    assert send(OPENED + timedelta(days=1)) == 0
    assert mail.outbox == []
