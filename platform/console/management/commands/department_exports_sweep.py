"""Remove department archives older than DEPARTMENT_EXPORT_KEEP_DAYS (console.exports); beat
runs the same function hourly (canvass.schedule). Idempotent."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from console.exports import department_exports_sweep


class Command(BaseCommand):
    help = "Remove department archives past their keeping time; mark abandoned builds failed."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = department_exports_sweep()
        self.stdout.write(f"{removed} department archive(s) removed.")
