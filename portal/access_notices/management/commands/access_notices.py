"""Owners' notices of access for every department; a scheduler runs it every five minutes."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.access_notices.tasks import notices_run
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "Read new audit entries (reveals, footage requests, live views) into owners' notices "
        "and email the due ones: at once, or one summary a week, as each owner chose. Safe to "
        "run at any time, and twice at once: nothing is sent twice."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        departments = Department.objects.serving()
        for department in departments.select_related("program", "branding"):
            with tenant_context(department):
                line = notices_run(now)
            self.stdout.write(f"{department.schema_name}: {line}")
