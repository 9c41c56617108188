"""Without a broker (the demo), `manage.py demo --serve` runs Celery beat's schedule in a thread
of its own process, each job at once: the same schedule, the same fan-out, the same tasks. The
thread's connection sees only committed data, so this test commits and cleans up."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from django_tenants.utils import schema_context

from canvass.celery import app
from canvass.schedule import beat_schedule
from portal.registry.models import ImportJob
from tenants.scheduling import broker_configured, scheduler_start
from tests.conftest import assert_test_database

MARKER = "demo-scheduler.csv"


@pytest.fixture
def abandoned_in_concord(django_db_setup: None, django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        assert_test_database()
        with schema_context("concord"):
            ImportJob.objects.create(filename=MARKER, created_at=timezone.now() - timedelta(days=2))
        try:
            yield
        finally:
            with schema_context("concord"):
                ImportJob.objects.filter(filename=MARKER).delete()
            connections.close_all()


@pytest.fixture
def fast_schedule() -> Iterator[None]:
    saved = app.conf.beat_schedule
    app.conf.beat_schedule = beat_schedule(every_seconds=0.5, only=["uploads_sweep"])
    yield
    app.conf.beat_schedule = saved


def test_without_a_broker_a_scheduler_thread_runs_the_schedules_jobs_in_process(
    abandoned_in_concord: None, fast_schedule: None, django_db_blocker
) -> None:
    assert not broker_configured()
    with django_db_blocker.unblock():
        stop, line = scheduler_start()
        try:
            assert "in-process (no CELERY_BROKER_URL)" in line
            assert any(thread.name == "Beat" for thread in threading.enumerate())
            deadline = time.monotonic() + 15
            status = ""
            while time.monotonic() < deadline:
                with schema_context("concord"):
                    status = ImportJob.objects.get(filename=MARKER).status
                if status == "expired":
                    break
                time.sleep(0.2)
            assert status == "expired"
        finally:
            stop()
    # Stopped cleanly (what Ctrl-C does in the demo): the thread is gone.
    assert not any(thread.name == "Beat" and thread.is_alive() for thread in threading.enumerate())
