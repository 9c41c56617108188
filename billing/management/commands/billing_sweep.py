"""End the integrations whose grace period after a failed payment is over; a scheduler runs it
hourly."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billing.services import grace_expired_end


class Command(BaseCommand):
    help = (
        "Return to registered every site whose device subscription's grace period after a "
        "failed payment has passed and which is not active again. Safe to run at any time, "
        "and more than once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        ended = grace_expired_end()
        self.stdout.write(f"{ended} integrations ended after their grace period")
