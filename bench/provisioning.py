"""How long provisioning a department takes: cloned from the template schema versus migrated.

Measures, N times in each mode and interleaved so that machine noise hits both alike, in a
throwaway database on the same server:
- the whole service call as `manage.py provision_department` makes it (validation, schema,
  domain, branding, program, first administrator invited by email to choose a password),
- the same call given the administrator's password (as the demo does), which adds one PBKDF2
  hash of the password to both modes alike, and
- the schema step alone (saving a Department row, which creates its schema),
then prints the medians and the migrated/cloned ratios.

Without DATABASE_URL it starts a throwaway embedded PostgreSQL in a new temporary directory,
leaving the project's own `.data/pg` alone (pass `--embedded-dir .data/pg` to measure that one).
Copying a schema is mostly creating files (four or so per table), and ext4 creates files many
times more slowly for a few minutes after thousands were deleted nearby (a test run, the
previous benchmark deleting its server), so the script prints how long creating a file takes
where the server keeps its data; read the ratios against it.

    .venv/bin/python bench/provisioning.py --departments 15
"""

from __future__ import annotations

import argparse
import atexit
import os
import platform as platform_module
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")


def file_creation_us(directory: Path, files: int = 300) -> float:
    """Microseconds to create an empty file in a new folder under `directory`."""
    folder = Path(tempfile.mkdtemp(dir=directory, prefix="bench-files-"))
    try:
        started = time.perf_counter()
        for number in range(files):
            (folder / str(number)).touch()
        return (time.perf_counter() - started) * 1e6 / files
    finally:
        shutil.rmtree(folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=5, help="departments per mode")
    parser.add_argument(
        "--embedded-dir",
        type=Path,
        help="without DATABASE_URL, the embedded server's data directory "
        "(default: a throwaway one in a new temporary directory)",
    )
    arguments = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        from canvass.embedded_db import embedded_database_urls

        throwaway = arguments.embedded_dir is None
        if throwaway:
            parent = Path(tempfile.mkdtemp(prefix="canvass-bench-"))
            # Registered first, so it runs after the server has stopped and deleted pg/.
            atexit.register(shutil.rmtree, parent, ignore_errors=True)
        data_dir = parent / "pg" if throwaway else arguments.embedded_dir
        os.environ["DATABASE_URL"], os.environ["DATABASE_OWNER_URL"] = embedded_database_urls(
            data_dir, throwaway=throwaway
        )
        creation_us = file_creation_us(data_dir)
        print(
            f"embedded PostgreSQL in {data_dir}{' (throwaway)' if throwaway else ''}; "
            f"creating a file there takes {creation_us:.0f} µs"
        )
        if creation_us > 200:
            print(
                "note: the file system creates files slowly right now (ext4 does after many "
                "deletions nearby, e.g. a test run or the previous benchmark); copying a schema "
                "is mostly creating files, so expect a lower ratio than on a quiet disk"
            )

    import django

    django.setup()
    from django.core import mail
    from django.db import connection
    from django.test.utils import override_settings
    from django_tenants.utils import schema_context

    from tenants.database import throwaway_database
    from tenants.models import Department
    from tenants.services import department_provision, platform_site_ensure

    settings_for_mail = override_settings(
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"
    )
    settings_for_mail.enable()
    mail.outbox = []
    # A database of its own (test_<name>), created, migrated and dropped here.
    database = throwaway_database()
    database.__enter__()
    try:
        platform_site_ensure()
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0]

        def provision(subdomain: str, password: str | None = None) -> float:
            started = time.perf_counter()
            # The service's own transaction; the invitation email goes out when it commits.
            department_provision(
                subdomain=subdomain,
                name=f"{subdomain.title()} Police Department",
                city=subdomain.title(),
                state="NC",
                time_zone="America/New_York",
                display_name=f"{subdomain.title()} Camera Registry",
                center_latitude=35.2271,
                center_longitude=-80.8431,
                service_radius_m=15_000,
                administrator_email=f"chief@{subdomain}.example.org",
                administrator_password=password,
            )
            return time.perf_counter() - started

        def schema_only(subdomain: str) -> float:
            department = Department(
                schema_name=subdomain, name=subdomain, city="X", state="NC", time_zone="UTC"
            )
            started = time.perf_counter()
            department.save(verbosity=0)
            return time.perf_counter() - started

        migrating = override_settings(
            TENANT_BASE_SCHEMA=False, TENANT_CREATION_FAKES_MIGRATIONS=False
        )
        runs: dict[str, list[float]] = {
            "service, cloned": [],
            "service, migrated": [],
            "+password, cloned": [],
            "+password, migrated": [],
            "schema, cloned": [],
            "schema, migrated": [],
        }
        password = "a-long-benchmark-passphrase"
        for number in range(1, arguments.departments + 1):
            runs["service, cloned"].append(provision(f"benchclone{number}"))
            with migrating:
                runs["service, migrated"].append(provision(f"benchmigrate{number}"))
            runs["+password, cloned"].append(provision(f"benchpwclone{number}", password))
            with migrating:
                runs["+password, migrated"].append(provision(f"benchpwmigrate{number}", password))
            runs["schema, cloned"].append(schema_only(f"benchschemaclone{number}"))
            with migrating:
                runs["schema, migrated"].append(schema_only(f"benchschemamigrate{number}"))
        with schema_context("benchclone1"), connection.cursor() as cursor:
            # The application's role may not read the template; a clone has the same rows.
            cursor.execute("SELECT count(*) FROM django_migrations")
            migration_count = cursor.fetchone()[0]
    finally:
        database.__exit__(None, None, None)

    medians = {label: statistics.median(times) for label, times in runs.items()}
    machine = platform_module.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform_module.python_version()}")
    print(
        f"database: {server.split(' on ')[0]}; migrations per department schema: {migration_count}"
    )
    print(f"departments per mode: {arguments.departments}")
    print(f"{'measured':<20}{'median s':>10}{'min s':>9}{'max s':>9}")
    for label, times in runs.items():
        print(f"{label:<20}{medians[label]:>10.3f}{min(times):>9.3f}{max(times):>9.3f}")
    ratios = {
        label: medians[f"{label}, migrated"] / medians[f"{label}, cloned"]
        for label in ("service", "+password", "schema")
    }
    service_ratio = ratios["service"]
    print(
        "migrated / cloned: "
        + ", ".join(f"{label} {ratio:.1f}x" for label, ratio in ratios.items())
    )
    print(
        f"targets: cloned under 2 s: {'met' if medians['service, cloned'] < 2 else 'NOT met'}; "
        f"at least 5x faster than migrating: {'met' if service_ratio >= 5 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
