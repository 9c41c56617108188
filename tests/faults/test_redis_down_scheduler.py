"""Redis down (issue 16, point 2): the scheduler catches up without sending anything twice.

While Redis is down beat cannot queue anything, but a job may still run: the demo's in-process
scheduler, or a worker that was running it when Redis went away. When Redis is back, beat fires
what is due (the missed tick and the next one). Shown here with the yearly verification notices
(registry_verify, a per-department job through jobs_fan_out): a run during the outage (the cache
answering as an empty one, tests/faults/test_redis_down_inprocess.py's cache_down) sends the
notice; beat's two catch-up runs send nothing again; and a catch-up run that starts while an
earlier run still holds the job's advisory lock for the department (tenants.scheduling.job_lock,
taken here on a connection of its own) is skipped rather than doubled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import time_machine
from django.core import mail
from django.db import connection

import portal.registry.tasks  # noqa: F401 (registers the job, as a worker's import does)
from tenants.tasks import jobs_fan_out
from tests.faults.test_redis_down_inprocess import cache_down  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

REGISTERED = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
NOTICE_DAY = REGISTERED + timedelta(days=365 - 30)
JOB = "portal.registry.tasks.registry_verify"


@pytest.fixture
def alice(make_resident, site_data):  # type: ignore[no-untyped-def]
    resident = make_resident("concord")
    with time_machine.travel(REGISTERED, tick=False):
        resident.client.post("/register/", site_data())
    mail.outbox.clear()
    return resident


def fan_out(day: datetime, capture) -> None:  # type: ignore[no-untyped-def]
    """Beat's fan-out of the job (in-process: tasks run at once, as the demo's scheduler)."""
    with time_machine.travel(day, tick=False), capture(execute=True):
        jobs_fan_out(JOB, 6 * 3600)


@pytest.fixture
def lock_held_elsewhere() -> Iterator[None]:
    """The job's lock for Concord, held by another session (a run still at work)."""
    connection.ensure_connection()
    info = connection.connection.info
    other = psycopg.connect(
        host=info.host,
        port=info.port,
        user=info.user,
        password=info.password or None,
        dbname=info.dbname,
        autocommit=True,
    )
    key = f"canvass-job:{JOB}:concord"
    (held,) = other.execute(
        "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key]
    ).fetchone()  # type: ignore[misc]
    assert held
    try:
        yield
    finally:
        other.close()


def test_a_run_during_the_outage_and_beats_catch_up_send_the_notice_once(
    alice,
    django_capture_on_commit_callbacks,
    cache_down,  # noqa: F811
) -> None:
    fan_out(NOTICE_DAY, django_capture_on_commit_callbacks)  # during the outage
    assert len(mail.outbox) == 1
    for hours in (1, 2):  # Redis back: the missed tick, then the next one
        fan_out(NOTICE_DAY + timedelta(hours=hours), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_a_catch_up_run_while_the_earlier_run_holds_the_lock_is_skipped(
    alice, django_capture_on_commit_callbacks, lock_held_elsewhere, caplog
) -> None:
    fan_out(NOTICE_DAY, django_capture_on_commit_callbacks)
    assert mail.outbox == []
    assert f"{JOB} skipped for concord: another run is still at work" in caplog.text


def test_once_the_lock_is_free_the_job_runs_once(alice, django_capture_on_commit_callbacks):
    fan_out(NOTICE_DAY, django_capture_on_commit_callbacks)
    fan_out(NOTICE_DAY + timedelta(minutes=1), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
