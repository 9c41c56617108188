"""The refunds and cancellations Stripe did not answer, tried again in every serving department
with the same idempotency key (billing.retries); Celery beat runs it every minute
(billing.tasks.billing_stripe_retries), this command is the fallback for cron and the manual run."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.retries import retries_run
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "Ask Stripe again for every pending refund and cancellation whose backoff is over, with "
        "the idempotency key of its first attempt. Safe to run at any time, and twice at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for department in Department.objects.serving().order_by("schema_name"):
            with tenant_context(department):
                result = retries_run(department=department, now=timezone.now())
            self.stdout.write(f"{department.schema_name}: {result}")
