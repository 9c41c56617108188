"""Every periodic job and when it runs: the one table Celery beat (CELERY_BEAT_SCHEDULE), the
demo's in-process scheduler and docs/operations.md all follow.

Beat fires one fan-out per job (tenants.tasks.jobs_fan_out), which queues the job once for each
serving department, in that department's schema. Loaded with the settings: no Django models here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from celery.schedules import crontab, schedule


@dataclass(frozen=True)
class Job:
    """A per-department task (by name: the tasks live in higher layers) and its crontab."""

    task: str
    minute: str = "*"
    hour: str = "*"
    # How long a queued copy stays worth running: a copy still waiting when the next one is due
    # is dropped rather than run late (workers down for an hour do not run sixty sweeps after).
    expires: int = 60
    # A job of the platform's own (public schema), run once rather than once per department.
    platform: bool = False


# Times are UTC (CELERY_TIMEZONE); each job works in its city's own time zone.
JOBS: dict[str, Job] = {
    # Yearly verification: notices, reminders, lapses and purges.
    "registry_verify": Job("portal.registry.tasks.registry_verify", "15", "6", 6 * 3600),
    # Abandoned registry imports' files and rows.
    "uploads_sweep": Job("portal.registry.tasks.uploads_sweep", "0", "*", 3600),
    # Footage files no clip names (an upload whose row and cleanup both failed: storage faults).
    "footage_sweep": Job("portal.department.tasks.footage_sweep", "5", "*", 3600),
    # Every city's audit hash chain.
    "audit_verify": Job("portal.registry.tasks.audit_verify", "30", "6", 6 * 3600),
    # The public transparency page's figures (the current month's refreshed hourly).
    "transparency_refresh": Job("portal.transparency.tasks.transparency_refresh", "40", "*", 3600),
    # Live view: grants past their expiry, owners' notices, silent devices.
    "liveview_sweep": Job("portal.liveview.tasks.liveview_sweep", "*", "*", 60),
    "liveview_devices_check": Job("portal.liveview.tasks.liveview_devices_check", "*/5", "*", 300),
    # Owners' notices of access: the audit trail read into notices, the due ones sent.
    "access_notices": Job("portal.access_notices.tasks.access_notices", "*/5", "*", 300),
    # Billing: integrations past their grace period, overdue licenses, drift from Stripe.
    "billing_sweep": Job("billing.tasks.billing_sweep", "45", "*", 3600),
    "billing_licenses_check": Job("billing.tasks.billing_licenses_check", "0", "7", 6 * 3600),
    "billing_reconcile": Job("billing.tasks.billing_reconcile", "20", "*/6", 3600),
    # Refunds and cancellations Stripe did not answer, retried with their idempotency key.
    "billing_stripe_retries": Job("billing.tasks.billing_stripe_retries", "*", "*", 60),
    # The platform's own: department archives past their time, support sessions past theirs.
    "department_exports_sweep": Job(
        "console.tasks.department_exports_sweep", "10", "*", 3600, platform=True
    ),
    "support_sweep": Job("console.tasks.support_sweep", "*", "*", 60, platform=True),
    # Schemas of provisionings killed before they committed.
    "provisioning_sweep": Job("tenants.tasks.provisioning_sweep", "*/10", "*", 600, platform=True),
    # The transactional outbox (tenants.outbox): tasks whose hand-over to the broker failed
    # (Redis down) or never happened, handed over again; one table for every department.
    "outbox_dispatch": Job("tenants.tasks.outbox_dispatch", "*", "*", 60, platform=True),
}

FAN_OUT_TASK = "tenants.tasks.jobs_fan_out"


def beat_schedule(*, every_seconds: float | None = None, only: list[str] | None = None) -> dict:
    """CELERY_BEAT_SCHEDULE: one fan-out entry per job. `every_seconds` replaces every crontab
    by a fixed interval and `only` keeps some jobs (the real-worker test runs one job each
    second; never in a deployment)."""
    entries: dict[str, dict[str, Any]] = {}
    for name, job in JOBS.items():
        if only is not None and name not in only:
            continue
        entries[name] = {
            "task": job.task if job.platform else FAN_OUT_TASK,
            "schedule": (
                schedule(every_seconds)
                if every_seconds
                else crontab(minute=job.minute, hour=job.hour)
            ),
            # The fan-out (in tenants, below this package) is told the task and its expiry.
            "args": () if job.platform else (job.task, every_seconds or job.expires),
            "options": {"expires": every_seconds or job.expires},
        }
    return entries
