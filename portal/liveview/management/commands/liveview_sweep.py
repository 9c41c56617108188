"""End live-view grants that nothing else ended, in every department; a scheduler runs it every
minute (media already stops on its own: the relay re-checks every grant every second)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.liveview.tasks import sweep_run
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "Record the end of every live-view grant past its expiry, and end the grants of staff "
        "whose sessions ran out, in every department (a suspended one too: its grants still "
        "end). Safe to run at any time, more than once and twice at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        # Suspended cities too (it only ends access; the suspension already ended their grants),
        # never one still being provisioned (its schema may not be complete).
        for department in Department.objects.provisioned():
            with tenant_context(department):
                line = sweep_run(now)
            self.stdout.write(f"{department.schema_name}: {line}")
