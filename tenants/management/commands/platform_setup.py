"""Bring every schema up to date and make sure the platform site exists; run at every deploy."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants.database import database_owner, database_privileges_ensure
from tenants.services import (
    department_schemas_behind,
    platform_site_ensure,
    template_schema_refresh,
)


class Command(BaseCommand):
    help = (
        "Migrate the public schema, the department template and every department, as the "
        "database owner (DATABASE_OWNER_URL); idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = int(options["verbosity"])
        # Before any table exists: the application's rights on what migrations create.
        database_privileges_ensure()
        with database_owner():
            call_command("migrate_schemas", shared=True, interactive=False, verbosity=verbosity)
            template_schema_refresh(verbosity=verbosity)
            # Departments are migrated in parallel (django-tenants' multiprocessing executor:
            # forked processes, each on its own connection as the owner), and not at all when
            # every schema has every migration already.
            if department_schemas_behind():
                parallel = settings.TENANT_MULTIPROCESSING_MAX_PROCESSES > 1
                call_command(
                    "migrate_schemas",
                    tenant=True,
                    interactive=False,
                    verbosity=verbosity,
                    executor="multiprocessing" if parallel else "standard",
                )
        platform_site_ensure()
        self.stdout.write(self.style.SUCCESS("Platform schemas are up to date."))
