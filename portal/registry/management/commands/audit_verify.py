"""Check every city's audit trail, link by link, and report the first entry that does not hold."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_tenants.utils import schema_context

from portal.registry.audit_chain import audit_chain_verify
from tenants.models import Department


class Command(BaseCommand):
    help = (
        "Verify the hash chain of every department's audit trail (or of --schema); exits with "
        "status 1 at the first broken link."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--schema", help="only this department's schema")

    def handle(self, *args: Any, **options: Any) -> None:
        # A suspended city's data is kept, and its trail checked like any other; one still
        # being provisioned has no trail yet.
        departments = Department.objects.provisioned().order_by("schema_name")
        if options["schema"]:
            departments = departments.filter(schema_name=options["schema"])
            if not departments.exists():
                raise CommandError(f"No department has the schema {options['schema']!r}.")
        broken = []
        for department in departments:
            with schema_context(department.schema_name):
                verdict = audit_chain_verify()
            self.stdout.write(f"{department.schema_name}: {verdict}")
            if verdict.broken_at is not None:
                broken.append(department.schema_name)
        if broken:
            raise CommandError(f"The audit trail is broken in {', '.join(broken)}.")
