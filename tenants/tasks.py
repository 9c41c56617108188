"""The fan-out Celery beat fires for each periodic job (canvass.schedule): the job queued once per
serving department, carrying that department's schema (tenant-schemas-celery's header)."""

from __future__ import annotations

import logging

from celery import current_app, shared_task
from django.db.models import Q

from tenants import outbox
from tenants.models import Department
from tenants.scheduling import broker_configured
from tenants.services import orphan_logos_sweep, provisioning_leftovers_sweep

logger = logging.getLogger(__name__)


@shared_task
def jobs_fan_out(task_name: str, expires: float | None = None) -> int:
    """Queue `task_name` for every serving department (Department.objects.serving()); the
    others (suspended, being provisioned) are skipped and logged. Without a broker each copy
    runs at once, and one department's failure is logged and does not stop the others. Returns
    how many departments the job was queued for."""
    task = current_app.tasks[task_name]
    serving = Department.objects.serving()
    skipped = Department.objects.cities().filter(~Q(pk__in=serving.values("pk")))
    for department in skipped.order_by("schema_name"):
        logger.info("%s: skipped %s (%s)", task_name, department.schema_name, department.status)
    queued = 0
    for schema_name in serving.order_by("schema_name").values_list("schema_name", flat=True):
        try:
            task.apply_async(headers={"_schema_name": schema_name}, expires=expires)
        except Exception:
            if broker_configured():
                raise  # the broker is down: beat's next tick tries again
            logger.exception("%s failed for %s", task_name, schema_name)
        queued += 1
    logger.info("%s queued for %d departments", task_name, queued)
    return queued


@shared_task
def provisioning_sweep() -> int:
    """Drop the schemas of provisionings killed before they committed, and remove the logos
    they stored (a platform job: tenants.services.provisioning_leftovers_sweep and
    orphan_logos_sweep); returns how many departments' leftovers went."""
    return len(provisioning_leftovers_sweep()) + len(orphan_logos_sweep())


@shared_task
def outbox_dispatch() -> int:
    """The outbox job (canvass.schedule, every minute, once for the platform): hand to the
    broker what the transactional outbox holds undispatched (tenants.outbox.redispatch)."""
    return outbox.redispatch()
