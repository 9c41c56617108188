"""How long a registry import takes through its background jobs.

In a throwaway database (`bench_imports_` beside the project's, apart from the test suite's), one
department; then, for N generated CSV rows of new sites (30,000 by default; `--rows 100000` is
the largest file allowed, about 20 MB with long addresses):
- the upload request as a department administrator makes it with a broker configured (the file
  is stored and the check queued; nothing is checked in the request);
- the check job (`registry_import_check`: every row through SiteForm's and CameraForm's
  fields and rules, once);
- the commit job (`registry_import_commit`: users, participants, sites and cameras written by
  INSERT ... SELECT from the checked rows' JSON in one transaction, after re-checking only
  whether a site was registered meanwhile and the service area);
- baseline: PostgreSQL's COPY of the same file into a table of text columns, the least any
  import of these rows can cost;
- the row checks alone on a sample of rows: with the forms' fields taken once (what the check
  job does), and with a SiteForm and a CameraForm built and bound for each row.

While the check job runs, a second client polls the import's status endpoint as the page does,
and the progress it saw is printed. Each job's CPU time (time.process_time, this process: the
polling client's thread is counted with the check; PostgreSQL's own work is not) is printed
beside its wall time, being less disturbed by other load on the machine, and so is the CPU time
of the job's PostgreSQL backend (from /proc: the project's embedded server runs on this
machine). `--bad-last` makes the last row invalid (the check must fail naming it, and nothing
is written); IMPORT_CHECK_PROCESSES=1 checks the rows in the job's own process (by default
they are checked in one forked process per core, whose CPU time is printed apart); `--profile
DIR` keeps a cProfile of each job (read it with `python -m pstats DIR/imports-check.prof`).

    .venv/bin/python bench/imports.py
    .venv/bin/python bench/imports.py --rows 100000
    .venv/bin/python bench/imports.py --rows 100000 --bad-last
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform as platform_module
import random
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
# bench/ is on the path of a script run from it.
from benchlib import CENTRE, bench_department  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
# The check job as a worker with a broker runs it (the bench itself runs the job in-process).
os.environ.setdefault("IMPORT_CHECK_PROCESSES", str(os.cpu_count() or 1))

RADIUS_M = 22_000


def import_rows(rng: random.Random, count: int) -> str:
    from portal.registry.registry_io import COLUMNS

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for n in range(count):
        writer.writerow(
            {
                "site_ref": f"I{n}",
                "address": f"{n} Import Avenue, Little Rock, AR 72201",
                "latitude": f"{CENTRE[0] + rng.uniform(-0.1, 0.1):.6f}",
                "longitude": f"{CENTRE[1] + rng.uniform(-0.1, 0.1):.6f}",
                "site_type": "home",
                "participation": "registered",
                "contact_name": f"Imported Owner {n}",
                # Each owner a number of their own: the phone's check is not cached away.
                "contact_phone": f"501-{rng.randrange(200, 1000)}-{rng.randrange(10_000):04d}",
                "contact_email": f"imported{n}@bench.example.org",
                "camera_label": "Front door",
                "camera_direction": str(rng.randrange(360)),
                "camera_sees": "street;sidewalk",
                "camera_mount": "wall",
                "camera_recording": "motion",
                "camera_retention_days": "14",
                "camera_night_vision": "yes",
            }
        )
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--sample", type=int, default=3_000, help="rows for the form timings")
    parser.add_argument(
        "--bad-last",
        action="store_true",
        help="make the last row invalid: the check must fail, name it and write nothing",
    )
    parser.add_argument(
        "--profile", metavar="DIR", help="write cProfile files of the check and commit jobs"
    )
    arguments = parser.parse_args()

    import django

    django.setup()
    from allauth.mfa.totp.internal.auth import TOTP
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django_tenants.utils import tenant_context

    from canvass.celery import app
    from portal.department.tasks import registry_import_check, registry_import_commit
    from portal.registry import registry_io, services
    from portal.registry.audit import Actor
    from portal.registry.models import Camera, ImportJob, ImportSite, Site, StaffMember
    from tenants.database import throwaway_database
    from tenants.services import platform_site_ensure

    setup_test_environment(debug=False)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    load_before = os.getloadavg()
    database = throwaway_database(prefix="bench_imports_")
    database.__enter__()
    try:
        platform_site_ensure()
        department = bench_department(radius_m=RADIUS_M)
        content = import_rows(random.Random(1), arguments.rows).encode()
        if arguments.bad_last:
            # The last row's latitude is no number.
            head, last = content.rstrip(b"\n").rsplit(b"\n", 1)
            (cells,) = csv.reader([last.decode()])
            cells[2] = "north"
            row = io.StringIO()
            csv.writer(row).writerow(cells)
            content = head + b"\n" + row.getvalue().encode()
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        with tenant_context(department):
            staff_user = get_user_model().objects.get(email="chief@bench.example.org")
            TOTP.activate(staff_user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
            staff = StaffMember.objects.get(user=staff_user)
            client = Client(HTTP_HOST="bench.localhost")
            client.force_login(staff_user)

            # The upload request, with a broker: the check is queued, not run.
            app.conf.task_always_eager = False
            started = time.perf_counter()
            response = client.post(
                "/department/import/",
                {"file": SimpleUploadedFile("bench.csv", content, content_type="text/csv")},
            )
            uploaded = time.perf_counter() - started
            app.conf.task_always_eager = True
            assert response.status_code == 302, response.status_code
            job = ImportJob.objects.get()

            # The check job, while a second client follows its progress as the page does.
            seen: list[tuple[str, int]] = []
            done = threading.Event()

            def follow(job_id: int = job.pk) -> None:
                watcher = Client(HTTP_HOST="bench.localhost")
                watcher.cookies = client.cookies  # the administrator's session
                while not done.is_set():
                    progress = watcher.get(f"/department/import/{job_id}/status.json").json()
                    seen.append((progress["status"], progress["rows_checked"]))
                    time.sleep(1.5)  # as department/import.js polls
                connection.close()

            watching = threading.Thread(target=follow)
            watching.start()
            started, cpu, backend = time.perf_counter(), time.process_time(), server_cpu()
            forked = children_cpu()
            profiled(registry_import_check, job.pk, arguments.profile, "check")
            checked, checked_cpu = time.perf_counter() - started, time.process_time() - cpu
            forked = children_cpu() - forked
            checked_server = server_cpu() - backend
            done.set()
            watching.join()
            job.refresh_from_db()
            written = cameras = 0
            committed = committed_cpu = committed_server = previewed = 0.0
            if arguments.bad_last:
                assert job.status == "failed", job.status
                assert job.errors[0][0] == arguments.rows + 1, job.errors[:3]
                assert not Site.objects.exists() and not ImportSite.objects.exists()
                refused = f"row {job.errors[0][0]:,}: {job.errors[0][1]}"
            else:
                assert job.status == "checked", job.errors[:5]
                started = time.perf_counter()
                response = client.get(f"/department/import/{job.pk}/")
                previewed = time.perf_counter() - started
                assert response.status_code == 200

                services.import_commit_request(actor=Actor.of_staff(staff, "127.0.0.1"), job=job)
                started, cpu, backend = time.perf_counter(), time.process_time(), server_cpu()
                written = profiled(registry_import_commit, job.pk, arguments.profile, "commit")
                committed, committed_cpu = (
                    time.perf_counter() - started,
                    time.process_time() - cpu,
                )
                committed_server = server_cpu() - backend
                assert written == job.site_count == Site.objects.count(), written
                cameras = Camera.objects.count()

            # The row checks alone: the forms' fields taken once, and a bound pair of forms
            # built for each row (what the check cost before).
            records = list(csv.DictReader(io.StringIO(content.decode())))[: arguments.sample]
            checker = registry_io.RowChecker(department.program)
            started = time.process_time()
            for record in records:
                checker.check(record)
            shared = time.process_time() - started
            started = time.process_time()
            for record in records:
                forms_check(record, department.program)
            per_row = time.process_time() - started

            # Baseline: COPY the same rows into a table of text columns.
            with connection.cursor() as cursor:
                header = content.split(b"\n", 1)[0].decode().split(",")
                columns = ", ".join(f'"{name}" text' for name in header)
                cursor.execute(f"CREATE TEMPORARY TABLE bench_copy ({columns})")
                started = time.perf_counter()
                with cursor.copy("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER)") as copy:
                    copy.write(content)
                copied = time.perf_counter() - started
    finally:
        try:
            database.__exit__(None, None, None)
        except Exception as error:
            # DROP DATABASE ... WITH (FORCE) is sometimes refused a backend it may not end
            # ("permission denied to terminate process"): the figures are good all the same.
            print(f"The throwaway database was not dropped: {error}", file=sys.stderr)

    assert len(server_pids) <= 1, "a job changed connections: its backend's CPU is not counted"
    load = os.getloadavg()
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}; {server}; load average (1, 5, 15 min) "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} at the start, "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
    )
    print(
        f"{arguments.rows:,} rows ({len(content) / 1_000_000:.1f} MB) -> {written:,} sites, "
        f"{cameras:,} cameras"
    )
    print("| step | s | ratio to COPY | CPU s (this process) | CPU s (its database backend) |")
    print("|---|---:|---:|---:|---:|")
    steps: list[tuple[str, float, tuple[float, float] | None]] = [
        ("upload request (file stored, check queued)", uploaded, None),
        (
            "check job (every row through the forms' fields, once)",
            checked,
            (checked_cpu, checked_server),
        ),
    ]
    if not arguments.bad_last:
        steps += [
            ("preview page (first 20 sites, audited)", previewed, None),
            (
                "commit job (one transaction, INSERT ... SELECT)",
                committed,
                (committed_cpu, committed_server),
            ),
            (
                "check + commit",
                checked + committed,
                (checked_cpu + committed_cpu, checked_server + committed_server),
            ),
        ]
    steps.append(("baseline: COPY of the file into text columns", copied, None))
    for step, seconds, cpu_seconds in steps:
        shown = " | ".join(f"{value:.2f}" for value in cpu_seconds) if cpu_seconds else " | "
        print(f"| {step} | {seconds:.2f} | {seconds / copied:.0f}x | {shown} |")
    if arguments.bad_last:
        print(f"Refused, nothing written: {refused}")
    shown = sorted({rows for status, rows in seen if status == "checking"})
    print(
        f"Check job's row checks: in {settings.IMPORT_CHECK_PROCESSES} process(es) "
        f"(IMPORT_CHECK_PROCESSES); CPU s of its forked checking processes: {forked:.2f}"
    )
    print(
        f"Progress seen by the status endpoint while checking ({len(seen)} polls): "
        f"{', '.join(f'{rows:,}' for rows in shown[:8])}{' ...' if len(shown) > 8 else ''}"
    )
    print(
        f"Row checks alone, {len(records):,} rows, CPU time: {shared:.2f} s with the forms' "
        f"fields taken once, {per_row:.2f} s with a SiteForm and a CameraForm bound to each row "
        f"({per_row / shared:.1f}x)."
    )
    return 0


server_pids: set[int] = set()


def children_cpu() -> float:
    """CPU seconds (user and system) of this process's children that ended: the check job's
    checking processes (registry_io.checked_rows), once joined."""
    times = os.times()
    return times.children_user + times.children_system


def server_cpu() -> float:
    """CPU seconds the PostgreSQL backend of this thread's connection has used (user and
    system, from /proc: the embedded server runs on this machine), or 0 when unreadable. (The
    jobs keep the connection: an assertion below says so.)"""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    server_pids.add(pid)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime: the 14th and 15th fields, the 12th and 13th after the command's name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profiled(function, argument, folder, name):
    """function(argument), under cProfile when a folder is given (folder/imports-<name>.prof)."""
    if not folder:
        return function(argument)
    import cProfile

    Path(folder).mkdir(parents=True, exist_ok=True)
    profile = cProfile.Profile()
    try:
        return profile.runcall(function, argument)
    finally:
        profile.dump_stats(str(Path(folder) / f"imports-{name}.prof"))


def forms_check(record, program):
    """One row checked as the resident portal checks a registration: a SiteForm and a
    CameraForm built and bound to it (the import's check before it took the fields once)."""
    from portal.registry.forms import CameraForm, SiteForm

    site = SiteForm(
        data={
            "kind": record["site_type"],
            "address": record["address"],
            "latitude": record["latitude"],
            "longitude": record["longitude"],
            "participation": record["participation"],
            "contact_name": record["contact_name"],
            "contact_phone": record["contact_phone"],
            "contact_email": record["contact_email"],
            "contact_method": "phone",
        },
        program=program,
        ask_terms=False,
    )
    camera = CameraForm(
        data={
            "label": record["camera_label"],
            "direction": record["camera_direction"],
            "sees": record["camera_sees"].split(";"),
            "mount": record["camera_mount"],
            "recording": record["camera_recording"],
            "retention_days": record["camera_retention_days"],
            "night_vision": record["camera_night_vision"] == "yes",
        }
    )
    return site.is_valid() and camera.is_valid()


if __name__ == "__main__":
    sys.exit(main())
