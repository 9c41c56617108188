"""Delete footage files no clip names (left by an upload whose row and whose cleanup both
failed during a storage fault), in every serving department; a scheduler runs it hourly."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.department.services import FOOTAGE_ORPHAN_AGE, footage_orphans_sweep
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "Delete the files under each serving department's footage folder that no clip names "
        f"and that are older than {FOOTAGE_ORPHAN_AGE}. Safe to run at any time, and more "
        "than once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        for department in Department.objects.serving():
            with tenant_context(department):
                removed = footage_orphans_sweep(now=now)
            self.stdout.write(f"{department.schema_name}: {removed} orphan footage files deleted")
