"""Mark unpaid licenses past their due date overdue and warn once (run daily; idempotent).
Never suspends a department."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from billing.licenses import licenses_check


class Command(BaseCommand):
    help = "Mark overdue licenses and warn billing staff and the departments' administrators once."

    def handle(self, *args: Any, **options: Any) -> None:
        warned = licenses_check()
        for license_ in warned:
            self.stdout.write(f"Overdue: {license_.department.name} (PO {license_.po_number})")
        self.stdout.write(self.style.SUCCESS(f"{len(warned)} newly overdue licenses."))
