"""Bring every schema up to date and make sure the platform site exists; run at every deploy."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name

from tenants.database import database_owner, database_privileges_ensure
from tenants.schema_migrations import (
    SchemaMigrated,
    department_schemas_migrate,
    migration_states_shared,
    schema_migrations_apply,
)
from tenants.services import (
    department_schemas_behind,
    platform_site_ensure,
    template_schema_refresh,
)


class Command(BaseCommand):
    help = (
        "Migrate the public schema, the department template and every department, as the "
        "database owner (DATABASE_OWNER_URL), the departments in MIGRATION_PROCESSES processes; "
        "a department that fails stops no other, and the command then exits non-zero naming it. "
        "Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = int(options["verbosity"])
        # Before any table exists: the application's rights on what migrations create.
        database_privileges_ensure()
        # The public schema, the template and the departments each migrated as Django's migrate
        # would, sharing one loader and rendered state (tenants.schema_migrations).
        with database_owner(), migration_states_shared():
            schema_migrations_apply(
                get_public_schema_name(), verbosity=verbosity, stdout=self.stdout
            )
            template_schema_refresh(verbosity=verbosity)
            # One query over every schema finds the departments with a migration to apply: at a
            # release without migrations nothing else runs.
            behind = department_schemas_behind()
            processes = max(1, min(settings.TENANT_MULTIPROCESSING_MAX_PROCESSES, len(behind)))
            if behind and verbosity:
                self.stdout.write(
                    f"Migrating {len(behind)} department(s) "
                    + (f"in {processes} processes." if processes > 1 else "one after another.")
                )
            results = department_schemas_migrate(
                schemas=behind,
                processes=processes,
                # Django's own "Applying ..." lines only when asked for more than progress.
                verbosity=max(0, verbosity - 1),
                progress=self.progress if verbosity else None,
            )
        platform_site_ensure()
        failed = [result for result in results if result.failed]
        if failed:
            for result in failed:
                self.stderr.write(f"  {result.schema_name}: {result.error}")
                if verbosity > 1:
                    self.stderr.write(result.detail)
            raise CommandError(
                f"{len(failed)} of {len(results)} department(s) failed to migrate: "
                f"{', '.join(sorted(result.schema_name for result in failed))}. Every other "
                "department is up to date; fix these and run platform_setup again."
            )
        if verbosity and results:
            applied = sum(result.applied for result in results)
            self.stdout.write(f"{len(results)} department(s) migrated ({applied} migrations).")
        self.stdout.write(self.style.SUCCESS("Platform schemas are up to date."))

    def progress(self, done: int, total: int, result: SchemaMigrated) -> None:
        prefix = f"[{done}/{total}] {result.schema_name}"
        if result.failed:
            self.stderr.write(f"{prefix} FAILED after {result.seconds:.1f} s: {result.error}")
        else:
            plural = "" if result.applied == 1 else "s"
            self.stdout.write(
                f"{prefix} migrated ({result.applied} migration{plural}, {result.seconds:.1f} s)"
            )
