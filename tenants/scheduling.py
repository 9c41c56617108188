"""How periodic jobs run for departments: which departments a job runs for (THE rule,
Department.objects.serving()), what a job queued for a department that is gone or no longer
serving does (it is skipped, with a log line), one run per (job, department) at a time, and the
demo's in-process scheduler when there is no broker.

The schedule itself is canvass.schedule (CELERY_BEAT_SCHEDULE); the fan-out task is
tenants.tasks.jobs_fan_out; canvass.celery.DepartmentTask calls job_department() and job_lock()
before a scheduled job's body.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery import current_app
from celery.beat import EmbeddedService
from django.conf import settings
from django_tenants.utils import get_public_schema_name

from tenants.db import session_lock
from tenants.models import Department

logger = logging.getLogger(__name__)


def job_department(task_name: str, requested_schema: str | None) -> Department | None:
    """The department a scheduled job queued for `requested_schema` runs for, read afresh; None
    (logged) when it no longer exists or no longer serves (suspended, or back to being
    provisioned), so the job is skipped: never an error, never retried."""
    if not requested_schema or requested_schema == get_public_schema_name():
        logger.error("%s skipped: a department's job queued without a department", task_name)
        return None
    department = (
        Department.objects.select_related("program", "branding")
        .filter(schema_name=requested_schema)
        .first()
    )
    if department is None:
        logger.warning(
            "%s skipped for %s: the department no longer exists (deleted after the job was queued)",
            task_name,
            requested_schema,
        )
        return None
    if not Department.objects.serving().filter(pk=department.pk).exists():
        logger.info(
            "%s skipped for %s: the department is %s, its jobs are paused",
            task_name,
            requested_schema,
            department.get_status_display().lower(),
        )
        return None
    return department


@contextmanager
def job_lock(task_name: str, schema_name: str) -> Iterator[bool]:
    """Whether this run holds the (job, department) lock: a PostgreSQL advisory lock on the
    connection's session, so that a run still busy when the next one starts (a slow sweep, two
    workers, a redelivered task) is not doubled. The database releases it if the worker dies,
    so no expiry has to be guessed. Each job is correct without it (row locks and claims); the
    lock only keeps runs from piling up."""
    with session_lock(f"canvass-job:{task_name}:{schema_name}") as held:
        yield held


def broker_configured() -> bool:
    """Whether jobs go through a broker to workers (CELERY_BROKER_URL), or run in-process."""
    return not settings.CELERY_TASK_ALWAYS_EAGER


def scheduler_start() -> tuple[Callable[[], None], str]:
    """Run Celery beat's own schedule (CELERY_BEAT_SCHEDULE) in a thread of this process, its
    jobs at once in that thread (no broker: tasks are eager): for `manage.py demo --serve`.
    Returns the function that stops it (waits for a job in progress) and a line saying so."""
    app: Any = current_app
    # Celery's own lines for each task ("Task ... succeeded") would flood the demo's terminal;
    # each job still logs its one line.
    logging.getLogger("celery").setLevel(logging.WARNING)
    app.loader.import_default_modules()  # every app's tasks.py, as a worker would
    beat: Any = EmbeddedService(app, thread=True, scheduler_cls="celery.beat:Scheduler")
    beat.start()

    def stop() -> None:
        beat.stop()
        beat.join(timeout=30)

    return stop, (
        "in-process (no CELERY_BROKER_URL): a scheduler thread runs Celery beat's schedule "
        "here, each job at once, for every active city"
    )
