"""The Celery application: background jobs that know which department's schema they serve.

tenant-schemas-celery records the schema of the request that queued a task and switches the
worker's connection to it; DepartmentTask then runs the task in that department's time zone, so
that what it computes and emails is in the city's local time. With no CELERY_BROKER_URL (the
demo), tasks run at once, in-process.
"""

import logging.config
import os
from typing import Any

from celery.signals import setup_logging, task_postrun, task_prerun
from django.db import connection
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.task import TenantTask

from canvass.observability.logs import task_context_enter, task_context_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")


class DepartmentTask(TenantTask):
    """A task run in its department's schema (switched by tenant-schemas-celery's task_prerun
    handler, which runs before this) and in the department's time zone."""

    abstract = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Imported here: this module is loaded with the settings, before the apps are ready.
        from tenants.models import Department

        tenant = getattr(connection, "tenant", None)
        if isinstance(tenant, Department):
            with tenant.in_time_zone():
                return super().__call__(*args, **kwargs)
        return super().__call__(*args, **kwargs)


app = CeleryApp("canvass", task_cls=DepartmentTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
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
