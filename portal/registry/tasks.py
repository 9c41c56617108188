"""The registry's periodic jobs, one department at a time in its own schema (Celery beat fans
them out: canvass.schedule). Each `*_run` function does one department's turn and returns its
report line; the scheduled task and the management command both call it."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from portal.registry import signals
from portal.registry.audit_chain import AuditChainBroken, Verdict, audit_chain_verify
from portal.registry.models import AuditEntry
from portal.registry.services import imports_sweep, registrations_verify
from tenants.models import Department, current_department

logger = logging.getLogger(__name__)


def verification_run(department: Department, now: datetime) -> str:
    """The yearly re-verification in the department's schema (notices, reminders, lapses,
    purges); each participant's step is recorded on them under a row lock, so nothing is sent
    twice however often and however many at a time it runs."""
    counts = registrations_verify(program=department.program, now=now)
    return (
        f"{counts.notices} notices, {counts.reminders} reminders, {counts.lapsed} lapsed, "
        f"{counts.purged} purged"
    )


def uploads_sweep_run(now: datetime) -> str:
    """Abandoned registry imports' files and rows, in the current schema."""
    return f"{imports_sweep(now=now)} abandoned imports deleted"


@shared_task(scheduled_job=True)
def registry_verify() -> str:
    department = current_department()
    line = verification_run(department, timezone.now())
    logger.info("registry_verify %s: %s", department.schema_name, line)
    return line


@shared_task(scheduled_job=True)
def uploads_sweep() -> str:
    line = uploads_sweep_run(timezone.now())
    logger.info("uploads_sweep %s: %s", current_department().schema_name, line)
    return line


@shared_task(scheduled_job=True)
def audit_verify() -> str:
    """The department's audit hash chain; a broken link fails the job (logged, and recorded in
    the platform's audit log for vendor staff)."""
    checked_at = timezone.now()
    last_entry_id = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    verdict = audit_chain_verify()
    schema_name = current_department().schema_name
    signals.audit_chain_checked.send(
        sender=Verdict, verdict=verdict, checked_at=checked_at, last_entry_id=last_entry_id
    )
    if verdict.broken_at is not None:
        logger.error("audit_verify %s: %s", schema_name, verdict)
        raise AuditChainBroken(f"{schema_name}: {verdict}")
    logger.info("audit_verify %s: %s", schema_name, verdict)
    return str(verdict)
