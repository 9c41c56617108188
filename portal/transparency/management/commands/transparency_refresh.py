"""Recompute every serving department's transparency figures (the scheduled job's work, for a
cron deployment or an operator)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.transparency.services import figures_refresh
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "Recompute the transparency page's monthly figures and counts by area in every serving "
        "department (or one, --schema). Safe to run at any time and more than once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schema", help="only this department")

    def handle(self, *args: Any, **options: Any) -> None:
        departments = Department.objects.serving()
        if options["schema"]:
            departments = departments.filter(schema_name=options["schema"])
        for department in departments:
            with tenant_context(department), department.in_time_zone():
                months = figures_refresh(department=department, now=timezone.now())
            self.stdout.write(f"{department.schema_name}: {months} months computed")
