"""Delete abandoned registry imports' files and rows, in every department; a scheduler runs it
hourly."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.registry.services import IMPORT_KEPT_FOR
from portal.registry.tasks import uploads_sweep_run
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "Delete the files, checked rows and reports of registry imports not confirmed within "
        f"{IMPORT_KEPT_FOR.days} day, and import files no import refers to, in every "
        "serving department (not suspended ones). Safe to run at any time, and more than once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        # Paused with the city: a suspended department's files are kept as they are, and the
        # sweep catches up after reactivation (it deletes what is more than a day old).
        for department in Department.objects.serving():
            with tenant_context(department):
                line = uploads_sweep_run(now)
            self.stdout.write(f"{department.schema_name}: {line}")
