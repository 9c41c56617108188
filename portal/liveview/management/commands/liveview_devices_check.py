"""Live view's offline check for every department; a scheduler runs it every few minutes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.liveview.tasks import devices_check_run
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "Mark devices silent for longer than their department's threshold offline, tell their "
        "owners once per outage and show them in the vendor's fulfilment queue. Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        departments = Department.objects.serving()
        for department in departments.select_related("program"):
            with tenant_context(department), department.in_time_zone():
                line = devices_check_run(now)
            self.stdout.write(f"{department.schema_name}: {line}")
