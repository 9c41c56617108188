"""How long `platform_setup` takes over many departments: with nothing to apply, and with one
new migration, one department after another and in platform_setup's pool of processes
(MIGRATION_PROCESSES, tenants.schema_migrations).

In a throwaway database (`bench_migrations_` beside the project's), N departments (50 by
default). The new migrations are added without touching the repository: the registry's
migrations are copied into a temporary package (MIGRATION_MODULES) with one more, an index on
the sites' kind; a second one (the index dropped) measures the other mode, so each run applies
exactly one new migration to every schema (the template and the N departments). Two more
measure, in the same run, the previous way of migrating each department (Django's migrate
command through django-tenants' migrate_schemas, in each schema on its own), one after another
and in the pool; another goes through django-tenants' own multiprocessing executor, for
comparison. Baseline: the same DDL statement run directly in every schema over one connection,
the least a migration of N schemas can cost. Last, nothing to apply without platform_setup's
one-query skip: every department through schema_migrate's own check, one after another and in
the pool.

    .venv/bin/python bench/migrations.py
    .venv/bin/python bench/migrations.py --departments 20 --profile bench/profiles
"""

from __future__ import annotations

import argparse
import io
import os
import platform as platform_module
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

MIGRATION = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("registry", "{previous}")]
    operations = [migrations.RunSQL({forward!r}, {backward!r})]
"""


def previous_schema_migrate_one(schema_name: str, verbosity: int = 0) -> Any:
    """One department migrated as before 2026-11-27: Django's migrate command through
    django-tenants' migrate_schemas in its schema, with its own loader, rendered states and
    post_migrate."""
    from django.core.management import call_command

    from tenants.db import tenant_connection
    from tenants.schema_migrations import SchemaMigrated

    started = time.perf_counter()
    try:
        call_command(
            "migrate_schemas",
            tenant=True,
            schema_name=schema_name,
            executor="standard",
            interactive=False,
            verbosity=verbosity,
            stdout=io.StringIO(),
        )
    finally:
        tenant_connection.set_schema_to_public()
    return SchemaMigrated(schema_name=schema_name, applied=1, seconds=time.perf_counter() - started)


@contextmanager
def previous_schema_migrate() -> Iterator[None]:
    """platform_setup with each department migrated the previous way (the forked processes
    inherit the swap; the function is named at the module's top level so the pool can pickle it).
    """
    from tenants import schema_migrations

    current = schema_migrations.schema_migrate
    schema_migrations.schema_migrate = previous_schema_migrate_one
    try:
        yield
    finally:
        schema_migrations.schema_migrate = current


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=50)
    parser.add_argument("--profile", metavar="DIR", help="cProfile of the sequential run")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from tenants.database import database_owner, throwaway_database
    from tenants.models import Department
    from tenants.schema_migrations import department_schemas_migrate
    from tenants.services import department_provision, migrations_on_disk, platform_site_ensure

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    load_before = os.getloadavg()
    folder = Path(tempfile.mkdtemp(prefix="bench-migrations-"))
    package = folder / "bench_registry_migrations"
    shutil.copytree(ROOT / "portal" / "registry" / "migrations", package)
    sys.path.insert(0, str(folder))
    latest = max(
        name
        for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
        if app == "registry"
    )
    database = throwaway_database(prefix="bench_migrations_")
    database.__enter__()
    rows = []
    try:
        platform_site_ensure()
        started = time.perf_counter()
        for number in range(arguments.departments):
            department_provision(
                subdomain=f"city{number}",
                name=f"City {number} Police Department",
                city=f"City {number}",
                state="AR",
                time_zone="America/Chicago",
                display_name=f"City {number} Registry",
                center_latitude=34.7465,
                center_longitude=-92.2896,
                service_radius_m=22_000,
                administrator_email=f"chief@city{number}.example.org",
            )
        provisioned = time.perf_counter() - started
        schemas = list(
            Department.objects.exclude(schema_name="public").values_list("schema_name", flat=True)
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        settings.MIGRATION_MODULES = {"registry": "bench_registry_migrations"}

        def setup(processes: int, profile: str | None = None) -> float:
            settings.TENANT_MULTIPROCESSING_MAX_PROCESSES = processes
            started = time.perf_counter()
            if profile:
                import cProfile

                Path(profile).mkdir(parents=True, exist_ok=True)
                profiler = cProfile.Profile()
                profiler.runcall(call_command, "platform_setup", verbosity=0, stdout=io.StringIO())
                profiler.dump_stats(str(Path(profile) / "migrations-sequential.prof"))
            else:
                call_command("platform_setup", verbosity=0, stdout=io.StringIO())
            return time.perf_counter() - started

        def add_migration(name: str, forward: str, backward: str, previous: str) -> None:
            (package / f"{name}.py").write_text(
                MIGRATION.format(previous=previous, forward=forward, backward=backward)
            )
            migrations_on_disk.cache_clear()  # read once per process, as a server would

        processes = os.cpu_count() or 1
        for label, count in (("sequential", 1), (f"{processes} processes", processes)):
            rows.append((f"nothing to apply, {label}", setup(count)))
        create = "CREATE INDEX bench_site_kind ON registry_site (kind)"
        drop = "DROP INDEX bench_site_kind"
        add_migration("9001_bench_index", create, drop, latest)
        rows.append((f"one new migration, {processes} processes", setup(processes)))
        add_migration("9002_bench_index_dropped", drop, create, "9001_bench_index")
        rows.append(("one new migration, sequential", setup(1, arguments.profile)))
        # Before/after in the same run: each department through django-tenants'
        # migrate_schemas (Django's migrate command in each schema), as schema_migrate did
        # before it shared one loader and one rendered state across schemas.
        with previous_schema_migrate():
            add_migration(
                "9002a_bench_index_previous",
                "CREATE INDEX bench_site_kind_previous ON registry_site (kind)",
                "DROP INDEX bench_site_kind_previous",
                "9002_bench_index_dropped",
            )
            rows.append(("one new migration, previous per-schema migrate, sequential", setup(1)))
            add_migration(
                "9002b_bench_index_previous_dropped",
                "DROP INDEX bench_site_kind_previous",
                "CREATE INDEX bench_site_kind_previous ON registry_site (kind)",
                "9002a_bench_index_previous",
            )
            rows.append(
                (
                    f"one new migration, previous per-schema migrate, {processes} processes",
                    setup(processes),
                )
            )
        # For comparison, the same kind of migration through django-tenants' own executor
        # (the 50 departments only: no template, no public schema, no check beforehand).
        add_migration(
            "9003_bench_index_again",
            "CREATE INDEX bench_site_kind_again ON registry_site (kind)",
            "DROP INDEX bench_site_kind_again",
            "9002b_bench_index_previous_dropped",
        )
        settings.TENANT_MULTIPROCESSING_MAX_PROCESSES = processes
        started = time.perf_counter()
        with database_owner():
            call_command(
                "migrate_schemas",
                tenant=True,
                executor="multiprocessing",
                interactive=False,
                verbosity=0,
                stdout=io.StringIO(),
            )
        rows.append(
            (
                f"one new migration, django-tenants' multiprocessing executor, {processes} "
                "processes (departments only)",
                time.perf_counter() - started,
            )
        )
        # Baseline: the same statement in every schema, over one connection.
        started = time.perf_counter()
        with database_owner(), connection.cursor() as cursor:
            for schema in ["department_template", *schemas]:
                cursor.execute(f'SET search_path = "{schema}"')
                cursor.execute(create)
            cursor.execute("SET search_path = public")
        baseline = time.perf_counter() - started
        rows.append(("baseline: the DDL statement alone in every schema", baseline))
        # Nothing to apply, without the one-query skip: migrate_schemas' own check in each.
        for label, count in (("sequential", 1), (f"{processes} processes", processes)):
            started = time.perf_counter()
            with database_owner():
                results = department_schemas_migrate(schemas=schemas, processes=count)
            assert not any(result.failed for result in results)
            rows.append(
                (
                    f"nothing to apply, every department checked by migrate (no skip), {label}",
                    time.perf_counter() - started,
                )
            )
    finally:
        database.__exit__(None, None, None)
        shutil.rmtree(folder)

    load = os.getloadavg()
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}; {server}; load average (1, 5, 15 min) "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} at the start, "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
    )
    print(
        f"{len(schemas)} departments (provisioned in {provisioned:.0f} s) + the template; "
        f"platform_setup"
    )
    print("| run | s | ratio to baseline |")
    print("|---|---:|---:|")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.2f} | {seconds / baseline:.0f}x |")
    times = dict(rows)
    for case in (
        "nothing to apply",
        "one new migration",
        "one new migration, previous per-schema migrate",
        "nothing to apply, every department checked by migrate (no skip)",
    ):
        sequential = times[f"{case}, sequential"]
        parallel = times[f"{case}, {processes} processes"]
        print(f"{case}: sequential / {processes} processes = {sequential / parallel:.2f}x")
    for label in ("sequential", f"{processes} processes"):
        previous = times[f"one new migration, previous per-schema migrate, {label}"]
        now = times[f"one new migration, {label}"]
        print(f"one new migration, {label}: previous / now = {previous / now:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
