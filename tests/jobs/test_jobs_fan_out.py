"""The fan-out and what a department's job does when its department is gone, paused, or busy
with another run of the same job. Tasks run in-process here (no broker: eager), through the same
Celery machinery a worker uses (tenant-schemas-celery's schema switch, DepartmentTask)."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone
from django_tenants.utils import schema_context

from console.models import PlatformAuditEntry
from portal.registry import tasks as registry_tasks
from portal.registry.audit_chain import Verdict
from portal.registry.models import ImportJob
from tenants.models import Department
from tenants.scheduling import job_lock
from tenants.tasks import jobs_fan_out

pytestmark = pytest.mark.django_db
SWEEP = "portal.registry.tasks.uploads_sweep"


def abandoned_import(schema_name: str) -> int:
    with schema_context(schema_name):
        job = ImportJob.objects.create(
            filename="abandoned.csv", created_at=timezone.now() - timedelta(days=2)
        )
        return job.pk


def status_of(schema_name: str, pk: int) -> str:
    with schema_context(schema_name):
        return ImportJob.objects.get(pk=pk).status


def test_a_job_runs_in_each_serving_departments_schema_and_skips_the_others(caplog) -> None:
    Department.objects.filter(schema_name="littlerock").update(status=Department.Status.SUSPENDED)
    Department.objects.filter(schema_name="carrollton").update(
        status=Department.Status.PROVISIONING
    )
    # The same id in every city: each sweep sees its own schema's row only.
    jobs = {schema: abandoned_import(schema) for schema in ("concord", "carrollton", "littlerock")}
    with caplog.at_level(logging.INFO):
        queued = jobs_fan_out(SWEEP, 60)
    assert queued == 1
    assert status_of("concord", jobs["concord"]) == "expired"
    assert status_of("carrollton", jobs["carrollton"]) == "checking"
    assert status_of("littlerock", jobs["littlerock"]) == "checking"
    assert f"{SWEEP}: skipped carrollton (provisioning)" in caplog.text
    assert f"{SWEEP}: skipped littlerock (suspended)" in caplog.text


def test_a_job_for_a_department_deleted_since_it_was_queued_is_skipped(caplog) -> None:
    with caplog.at_level(logging.INFO):
        result = registry_tasks.uploads_sweep.apply(headers={"_schema_name": "atlantis"})
    assert result.successful()
    assert result.result is None
    assert "uploads_sweep skipped for atlantis: the department no longer exists" in caplog.text


def test_any_task_for_a_department_deleted_since_is_skipped_not_run_in_public(caplog) -> None:
    from portal.department.tasks import notify_area

    with caplog.at_level(logging.INFO):
        result = notify_area.apply(args=(1,), headers={"_schema_name": "atlantis"})
    assert result.successful(), result.traceback
    assert "notify_area skipped for atlantis: the department no longer exists" in caplog.text


def test_a_job_for_a_department_suspended_since_it_was_queued_is_skipped(caplog) -> None:
    pk = abandoned_import("concord")
    Department.objects.filter(schema_name="concord").update(status=Department.Status.SUSPENDED)
    with caplog.at_level(logging.INFO):
        result = registry_tasks.uploads_sweep.apply(headers={"_schema_name": "concord"})
    assert result.result is None
    assert status_of("concord", pk) == "checking"
    assert "skipped for concord: the department is suspended" in caplog.text


def test_a_run_is_skipped_while_another_holds_the_jobs_lock_in_that_department(caplog) -> None:
    pk = abandoned_import("concord")
    carrollton_pk = abandoned_import("carrollton")
    held, release = threading.Event(), threading.Event()

    def other_run() -> None:
        try:
            with job_lock(SWEEP, "concord") as got:
                assert got
                held.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_run)
    thread.start()
    try:
        assert held.wait(10)
        with caplog.at_level(logging.INFO):
            assert (
                registry_tasks.uploads_sweep.apply(headers={"_schema_name": "concord"}).result
                is None
            )
            # Another department's run of the same job is not held up.
            assert (
                registry_tasks.uploads_sweep.apply(headers={"_schema_name": "carrollton"}).result
                == "1 abandoned imports deleted"
            )
    finally:
        release.set()
        thread.join()
    assert status_of("concord", pk) == "checking"
    assert status_of("carrollton", carrollton_pk) == "expired"
    assert "uploads_sweep skipped for concord: another run is still at work" in caplog.text
    # Released: the next run goes ahead.
    assert registry_tasks.uploads_sweep.apply(headers={"_schema_name": "concord"}).result == (
        "1 abandoned imports deleted"
    )


def test_a_failed_job_is_recorded_in_the_platform_audit_log_and_the_others_still_run(
    monkeypatch, caplog
) -> None:
    from django.db import connection

    real_verify = registry_tasks.audit_chain_verify

    def broken_in_concord() -> Verdict:
        if connection.schema_name == "concord":
            return Verdict(12, 7, "its contents do not match its hash")
        return real_verify()

    monkeypatch.setattr(registry_tasks, "audit_chain_verify", broken_in_concord)
    with caplog.at_level(logging.INFO):
        queued = jobs_fan_out("portal.registry.tasks.audit_verify", 60)
    assert queued == 3
    entries = PlatformAuditEntry.objects.filter(action=PlatformAuditEntry.Action.JOB_FAILED)
    assert [(e.department_schema, e.detail) for e in entries] == [
        ("concord", {"job": "portal.registry.tasks.audit_verify", "error": "AuditChainBroken"})
    ]
    assert "audit_verify concord: BROKEN at entry 7" in caplog.text
    assert "audit_verify carrollton: intact" in caplog.text
    assert "audit_verify littlerock: intact" in caplog.text


def test_the_schedule_names_a_registered_task_for_every_job() -> None:
    from canvass.celery import app
    from canvass.schedule import JOBS, beat_schedule

    app.loader.import_default_modules()
    schedule = beat_schedule()
    assert set(schedule) == set(JOBS)
    for name, entry in schedule.items():
        if JOBS[name].platform:
            # The platform's own jobs run once, in the public schema, not per department.
            assert entry["task"] == JOBS[name].task
            assert entry["args"] == ()
            assert entry["task"] in app.tasks, name
            continue
        assert entry["task"] == "tenants.tasks.jobs_fan_out"
        task_name = entry["args"][0]
        assert task_name == JOBS[name].task
        assert app.tasks[task_name].scheduled_job, task_name


def test_the_platforms_own_jobs_run_from_the_schedule(db) -> None:
    """The support sweep and the archives' sweep are scheduled: beat's entry, run as beat runs
    it (in-process here), ends a support session past its time."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from canvass.celery import app
    from canvass.schedule import beat_schedule
    from console.models import SupportSession
    from tenants.models import Department

    app.loader.import_default_modules()
    entries = beat_schedule()
    assert {"support_sweep", "department_exports_sweep"} <= set(entries)
    vendor = get_user_model().objects.create_user(
        username="sweep-vendor", email="sweep@canvass.example.org", is_staff=True
    )
    session = SupportSession.objects.create(
        vendor=vendor,
        vendor_email=vendor.email,
        department=Department.objects.get(schema_name="concord"),
        reason="Ticket 12: the map does not load",
        requested_at=timezone.now() - timedelta(hours=2),
        expires_at=timezone.now() - timedelta(hours=1),
    )
    entry = entries["support_sweep"]
    app.tasks[entry["task"]].apply(args=entry["args"])
    session.refresh_from_db()
    assert session.ended_at is not None
    entry = entries["department_exports_sweep"]
    app.tasks[entry["task"]].apply(args=entry["args"])
