"""Keep every device plan's Stripe Product and Prices in step (safe to run again: a plan already
in step makes no call that creates anything)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing.catalog import catalog_sync_all
from billing.gateway import PaymentsNotConfigured


class Command(BaseCommand):
    help = "Create or update the Stripe Products and Prices of every device plan."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            results = catalog_sync_all()
        except PaymentsNotConfigured as error:
            raise CommandError(f"{error.message} Set STRIPE_SECRET_KEY to sync.") from error
        failed = [result for result in results if result.error]
        for result in results:
            plan = result.plan
            if result.error:
                self.stderr.write(f"{plan.slug}: {result.error}")
            else:
                self.stdout.write(
                    f"{plan.slug}: {plan.stripe_product_id} device {plan.stripe_device_price_id}"
                    f" yearly {plan.stripe_yearly_price_id}"
                )
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} plans could not be synced.")
        self.stdout.write(self.style.SUCCESS(f"{len(results)} plans in step with Stripe."))
