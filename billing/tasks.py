"""Billing's periodic jobs, one department at a time (Celery beat fans them out:
canvass.schedule). Billing's rows live in the public schema; each job works on the rows of the
department whose schema the task was queued for."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from billing.gateway import PaymentsNotConfigured, StripeUnavailable, gateway
from billing.licenses import licenses_check
from billing.reconcile import department_reconcile
from billing.retries import retries_run
from billing.services import grace_expired_end
from tenants.models import current_department

logger = logging.getLogger(__name__)


@shared_task(scheduled_job=True)
def billing_sweep() -> str:
    """Integrations whose grace period after a failed payment is over end (each in its own
    transaction, the subscription row locked: idempotent)."""
    department = current_department()
    line = f"{grace_expired_end(now=timezone.now(), department=department)} integrations ended"
    logger.info("billing_sweep %s: %s", department.schema_name, line)
    return line


@shared_task(scheduled_job=True)
def billing_licenses_check() -> str:
    """The department's unpaid license past its due date is marked overdue and warned about
    once (overdue_notified_at, under a row lock)."""
    department = current_department()
    warned = licenses_check(timezone.now(), department=department)
    line = f"{len(warned)} newly overdue licenses"
    logger.info("billing_licenses_check %s: %s", department.schema_name, line)
    return line


@shared_task(scheduled_job=True)
def billing_reconcile() -> str:
    """What Stripe holds against what we recorded for the department (billing.reconcile)."""
    department = current_department()
    try:
        client = gateway()
    except PaymentsNotConfigured:
        logger.info(
            "billing_reconcile %s: payments are not configured here", department.schema_name
        )
        return "payments not configured"
    try:
        result = department_reconcile(department=department, client=client)
    except StripeUnavailable:
        # Not a failure of ours: the next run (canvass.schedule) carries on where this stopped.
        logger.warning(
            "billing_reconcile %s: Stripe is unreachable; the next run carries on",
            department.schema_name,
        )
        return "Stripe unreachable"
    logger.info("billing_reconcile %s: %s", department.schema_name, result)
    return str(result)


@shared_task(scheduled_job=True)
def billing_stripe_retries() -> str:
    """The department's refunds and cancellations Stripe did not answer, tried again with the
    same idempotency key once their backoff is over (billing.retries)."""
    department = current_department()
    result = retries_run(department=department, now=timezone.now())
    logger.info("billing_stripe_retries %s: %s", department.schema_name, result)
    return str(result)
