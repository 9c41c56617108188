"""Stripe reconciliation for every active department (billing.reconcile); Celery beat runs it
(billing.tasks.billing_reconcile), this command is the fallback and the manual run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.gateway import PaymentsNotConfigured, gateway
from billing.reconcile import department_reconcile
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "Compare every active department's subscriptions, invoices and licenses with Stripe and "
        "apply what a missed webhook would have. Safe to run at any time, and twice at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            client = gateway()
        except PaymentsNotConfigured as error:
            raise CommandError("Payments are not configured (no STRIPE_SECRET_KEY).") from error
        for department in Department.objects.serving().order_by("schema_name"):
            result = department_reconcile(department=department, client=client)
            self.stdout.write(f"{department.schema_name}: {result}")
            for event_id in result.corrected:
                self.stdout.write(f"  corrected: {event_id}")
