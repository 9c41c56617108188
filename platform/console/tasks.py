"""Background jobs of the vendor console (Celery; in-process when no broker is set)."""

from __future__ import annotations

from celery import shared_task

from console import exports
from console.support import support_sessions_expire


@shared_task(reject_on_worker_lost=True)
def department_export_build(export_id: int) -> str:
    """Build a department's archive (console.exports); its status says how it went. Its worker
    killed mid-way, the task comes back to the queue and builds the archive again from the
    start (the part written is removed)."""
    export = exports.department_export_build(export_id=export_id)
    return export.status if export is not None else "missing"


# Scheduled jobs of the platform's own (canvass.schedule: run once, in the public schema).


@shared_task
def department_exports_sweep() -> int:
    """Remove department archives older than DEPARTMENT_EXPORT_KEEP_DAYS (console.exports)."""
    return exports.department_exports_sweep()


@shared_task
def support_sweep() -> int:
    """Record the end of vendor support sessions whose time is over (console.support)."""
    return support_sessions_expire()
