"""The Celery application: background jobs that know which department's schema they serve.

tenant-schemas-celery records the schema of the request that queued a task and switches the
worker's connection to it; DepartmentTask then runs the task in that department's time zone, so
that what it computes and emails is in the city's local time. A task queued for a department
that has since been deleted is skipped with a log line. Periodic jobs (`@shared_task(
scheduled_job=True)`, queued by tenants.tasks.jobs_fan_out on canvass.schedule's timetable) also
run only for a serving department and one at a time per department (tenants.scheduling), and
one that fails is recorded in the platform's audit log. With no CELERY_BROKER_URL (the demo),
tasks run at once, in-process.
"""

import logging
import logging.config
import os
from typing import Any

from celery.signals import setup_logging, task_postrun, task_prerun
from celery.utils.time import get_exponential_backoff_interval
from tenant_schemas_celery.app import CeleryApp, get_schema_name_from_task
from tenant_schemas_celery.task import TenantTask

from canvass.observability.logs import task_context_enter, task_context_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

logger = logging.getLogger(__name__)


class DepartmentTask(TenantTask):
    """A task run in its department's schema (switched by tenant-schemas-celery's task_prerun
    handler, which runs before this) and in the department's time zone."""

    abstract = True
    # A periodic job of a department (set by @shared_task(scheduled_job=True)).
    scheduled_job = False

    @classmethod
    def get_tenant_for_schema(cls, schema_name: str) -> Any:
        # Imported here: this module is loaded with the settings, before the apps are ready
        # (django_tenants.utils reads the settings as it is imported).
        from django_tenants.utils import get_public_schema_name

        from tenants.models import Department

        try:
            return super().get_tenant_for_schema(schema_name)
        except Department.DoesNotExist:
            # Deleted since the task was queued: the connection stays in the public schema
            # (an unsaved row naming it) and __call__ skips the task.
            return Department(schema_name=get_public_schema_name())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from tenants.db import tenant_connection as connection
        from tenants.models import Department
        from tenants.scheduling import job_department, job_lock

        queued_for = get_schema_name_from_task(self, kwargs)
        if (
            queued_for
            and connection.schema_name != queued_for
            and not self._switch_again(queued_for, kwargs)
        ):
            # The prerun handler could not switch to it (get_tenant_for_schema above).
            logger.warning(
                "%s skipped for %s: the department no longer exists", self.name, queued_for
            )
            return None
        tenant = getattr(connection, "tenant", None)
        if self.scheduled_job:
            # Called directly (a test, a shell), the job runs for the connection's schema.
            department = job_department(self.name, queued_for or connection.schema_name)
            if department is None:
                return None
            with job_lock(self.name, department.schema_name) as held:
                if not held:
                    logger.info(
                        "%s skipped for %s: another run is still at work",
                        self.name,
                        department.schema_name,
                    )
                    return None
                try:
                    with department.in_time_zone():
                        return super().__call__(*args, **kwargs)
                except Exception as error:
                    # Here rather than on Celery's task_failure signal, which eager runs (the
                    # demo) never send.
                    scheduled_job_failed(self.name, department, error)
                    raise
        if isinstance(tenant, Department):
            with tenant.in_time_zone():
                return super().__call__(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def _switch_again(self, schema_name: str, kwargs: dict[str, Any]) -> bool:
        """After the prerun handler could not switch to `schema_name`: whether the department
        exists (then the connection is switched to it now). The handler's errors are only
        logged by Celery's signal: a database that did not answer would pass for a deleted
        department and the task would be dropped. Nothing of the task has run yet, so it is
        retried (after 2, 4, 8... up to 60 s) until the database answers again."""
        from django.db import InterfaceError, OperationalError
        from tenant_schemas_celery.app import switch_schema

        from tenants.models import Department

        try:
            if not Department.objects.filter(schema_name=schema_name).exists():
                return False
            switch_schema(self, kwargs)
        except (OperationalError, InterfaceError) as error:
            if self.request.is_eager or self.request.called_directly:
                raise
            countdown = get_exponential_backoff_interval(
                factor=2, retries=self.request.retries, maximum=60, full_jitter=False
            )
            logger.warning(
                "%s for %s: the database did not answer; retried in %s s",
                self.name,
                schema_name,
                countdown,
            )
            raise self.retry(exc=error, countdown=countdown, max_retries=12) from error
        return True


app = CeleryApp("canvass", task_cls=DepartmentTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def scheduled_job_failed(task_name: str, department: Any, error: BaseException) -> None:
    """A periodic job that failed for a department goes into the platform's audit log, where
    vendor staff see it: the job and the kind of error, never its message (it may quote a
    resident's data)."""
    from console.audit import platform_audit_record
    from console.models import PlatformAuditEntry

    try:
        platform_audit_record(
            actor=None,
            action=PlatformAuditEntry.Action.JOB_FAILED,
            department=department,
            detail={"job": task_name, "error": type(error).__name__},
        )
    except Exception:
        logger.exception("%s failed for %s and could not be recorded", task_name, department)


# Each task's log lines carry its id, its department's schema and the role "task" (connected
# after tenant-schemas-celery's own handlers, which switch the schema first).
task_prerun.connect(task_context_enter, dispatch_uid="canvass.task_log_context_enter")
task_postrun.connect(task_context_exit, dispatch_uid="canvass.task_log_context_exit")


def _logging_as_django(**kwargs: Any) -> None:
    """Workers and beat log like the web processes (settings.LOGGING: JSON in production,
    scrubbed), instead of Celery's own configuration of the root logger."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


setup_logging.connect(_logging_as_django, dispatch_uid="canvass.celery_logging")
