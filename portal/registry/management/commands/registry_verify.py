"""The yearly re-verification for every department; a scheduler runs it daily."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.registry.tasks import verification_run
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "Send yearly confirmation notices and reminders, lapse unconfirmed registrations and "
        "purge long-lapsed ones, in every active department. Safe to run more than once a day."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        departments = Department.objects.serving()
        for department in departments.select_related("program"):
            # Each city's notices give dates in its own zone (a notice sent at 03:00 UTC in
            # January is still the previous evening in Concord).
            with tenant_context(department), department.in_time_zone():
                line = verification_run(department, now)
            self.stdout.write(f"{department.schema_name}: {line}")
