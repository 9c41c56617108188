"""A real `celery beat` and a real `celery worker` (subprocesses, as deployed: `-A canvass`,
workdir platform) on the machine's Redis, against the test database: beat fires the uploads
sweep's fan-out every second (tests/jobs/beat_settings.py), the worker queues and runs it in
Concord's and Carrollton's schemas, and not in Little Rock's while it is suspended.

The data must be committed for the worker's own connections to see it, so this test does not
run in a transaction; it removes what it made and puts Little Rock back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.registry.models import ImportJob
from tenants.models import Department
from tests.conftest import assert_test_database
from tests.department.test_notify_queue import redis_available

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/5"
MARKER = "beat-marker.csv"
SCHEMAS = ("concord", "carrollton", "littlerock")


def database_url_for(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


@pytest.fixture
def committed(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    """An abandoned import (two days old, never confirmed) in each city, Little Rock suspended;
    all undone afterwards."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        assert_test_database()
        two_days_ago = timezone.now() - timedelta(days=2)
        for schema_name in SCHEMAS:
            with schema_context(schema_name):
                ImportJob.objects.create(filename=MARKER, created_at=two_days_ago)
        Department.objects.filter(schema_name="littlerock").update(
            status=Department.Status.SUSPENDED
        )
        try:
            yield
        finally:
            Department.objects.filter(schema_name="littlerock").update(
                status=Department.Status.ACTIVE
            )
            for schema_name in SCHEMAS:
                with schema_context(schema_name):
                    ImportJob.objects.filter(filename=MARKER).delete()
            connections.close_all()


def celery(*arguments: str, log: Path, environment: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "canvass", "--workdir", "platform", *arguments],
        cwd=ROOT,
        env=environment,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def statuses(django_db_blocker: pytest.FixtureRequest) -> dict[str, str]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        found = {}
        for schema_name in SCHEMAS:
            with schema_context(schema_name):
                found[schema_name] = ImportJob.objects.get(filename=MARKER).status
        return found


def test_beat_and_a_worker_run_a_job_in_every_serving_departments_schema(
    committed: None, django_db_blocker: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if not redis_available():
        if os.environ.get("CI"):
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379: no broker for a real worker")
    name = connection.settings_dict["NAME"]
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.jobs.beat_settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "DATABASE_URL": database_url_for(settings.DATABASE_URL, name),
        "DATABASE_OWNER_URL": database_url_for(settings.DATABASE_OWNER_URL, name),
        "CELERY_BROKER_URL": BROKER,
        "JOBS_TEST_QUEUE": f"canvass-jobs-test-{uuid.uuid4().hex[:8]}",
    }
    environment.pop("REDIS_URL", None)
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    worker = celery(
        "worker",
        "--pool",
        "solo",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        log=worker_log,
        environment=environment,
    )
    beat = None
    try:
        beat = celery(
            "beat",
            "--loglevel",
            "INFO",
            "--pidfile",
            str(tmp_path / "beat.pid"),
            log=beat_log,
            environment=environment,
        )
        deadline = time.monotonic() + 30
        found = statuses(django_db_blocker)
        while time.monotonic() < deadline:
            found = statuses(django_db_blocker)
            if found["concord"] == found["carrollton"] == "expired":
                break
            assert worker.poll() is None, worker_log.read_text()
            assert beat.poll() is None, beat_log.read_text()
            time.sleep(0.25)
        logs = f"worker:\n{worker_log.read_text()}\nbeat:\n{beat_log.read_text()}"
        assert found["concord"] == "expired", logs
        assert found["carrollton"] == "expired", logs
        # Suspended: the fan-out skipped it, and said so.
        assert found["littlerock"] == "checking", logs
        assert "portal.registry.tasks.uploads_sweep: skipped littlerock (suspended)" in logs
        assert "Sending due task uploads_sweep (tenants.tasks.jobs_fan_out)" in logs
    finally:
        if beat is not None:
            stop(beat)
        stop(worker)


def test_celery_loads_the_app_with_nothing_but_the_documented_command() -> None:
    """`celery -A canvass --workdir platform beat` (docs/operations.md) from the checkout, with
    no DJANGO_SETTINGS_MODULE in the environment: the app, its settings and the schedule load."""
    environment = {
        key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"
    }
    report = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "canvass", "--workdir", "platform", "report"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert report.returncode == 0, report.stderr
    assert "tenants.tasks.jobs_fan_out" in report.stdout
    assert "portal.registry.tasks.registry_verify" in report.stdout
