"""Background jobs of the vendor console (Celery; in-process when no broker is set)."""

from __future__ import annotations

from celery import shared_task

from console import exports


@shared_task
def department_export_build(export_id: int) -> str:
    """Build a department's archive (console.exports); its status says how it went."""
    export = exports.department_export_build(export_id=export_id)
    return export.status if export is not None else "missing"
