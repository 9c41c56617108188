"""Requests per second and p50/p95/p99 latency of three pages under gunicorn, and the resident
set size of a web worker and a Celery worker at rest and after the load.

In a throwaway database (`bench_load_` beside the project's), one department of N sites (30,000
by default, Little Rock's goal, seeded as bench/pages.py does), with:
- a resident (one of the seeded owners, ten sites) signed in through allauth's real form;
- an investigator with an authenticator app, signed in with password and one-time code;
- an incident whose canvass searches 1 km.
gunicorn serves it with infra/gunicorn.conf.py and WEB_CONCURRENCY=2 (one sync worker per core)
on loopback, DEBUG off; a Celery worker (`celery --workdir platform -A canvass worker`,
prefork, one pool process) takes jobs from Redis database 9. The load generator is bounded:
--clients threads (4), each sending one request at a time on a new connection (gunicorn's sync
workers close them), --seconds per page (30; at most 120 s of load in all, warm-up included):
- the city's landing page (anonymous);
- the resident's own page (/my/: their sites);
- the investigator's canvass page of the incident (1 km).
Then --notices area notices of that incident go through the Celery worker (each emails the
owners within 1 km through the console backend, to /dev/null), so that the worker's "after"
figure is after real work. RSS (psutil) is read for each gunicorn worker and for the Celery
worker's main and pool processes, at rest (10 s after the pool process appeared, before any
request or job) and after all of it.

    .venv/bin/python manage.py collectstatic --noinput -v 0
    .venv/bin/python bench/load.py
    .venv/bin/python bench/load.py --sites 3000 --seconds 10
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
# bench/ is on the path of a script run from it.
from benchlib import CENTRE, bench_department, percentile  # noqa: E402
from pages import gunicorn, seed  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HOST = "bench.localhost"
RADIUS_M = 22_000
BROKER = "redis://127.0.0.1:6379/9"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
PASSWORD = "a-long-benchmark-passphrase"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=30_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="measured per page")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--notices", type=int, default=20, help="jobs for the Celery worker")
    parser.add_argument("--port", type=int, default=8766)
    arguments = parser.parse_args()
    warm_up = 2.0
    if 3 * (arguments.seconds + warm_up) > 120:
        parser.error("at most two minutes of load: --seconds 38 or less")

    import django

    django.setup()
    import psutil
    import redis
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from canvass.celery import app
    from portal.department.models import Incident, Notification, NotificationRecipient
    from portal.department.tasks import notify_area
    from portal.registry.models import Camera, Participant, Site, StaffMember
    from tenants.database import database_owner, throwaway_database
    from tenants.db import copy_rows, copy_rows_returning_ids
    from tenants.services import platform_site_ensure

    if not (ROOT / ".data" / "static" / "portal" / "portal.css").exists():
        sys.exit("Run `manage.py collectstatic --noinput` first: WhiteNoise serves .data/static.")
    try:
        redis.Redis.from_url(BROKER).flushdb()  # this benchmark's own database: no stale jobs
    except redis.RedisError:
        sys.exit(f"No Redis at {BROKER}: the Celery worker needs it.")
    setup_test_environment(debug=False)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    load_before = os.getloadavg()
    database = throwaway_database(prefix="bench_load_")
    name = database.__enter__()
    report: list[str] = []
    memory: list[str] = []
    try:
        platform_site_ensure()
        department = bench_department(radius_m=RADIUS_M)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        User = get_user_model()
        with tenant_context(department):
            seed(
                random.Random(1),
                arguments.sites,
                User,
                Participant,
                Site,
                Camera,
                copy_rows,
                copy_rows_returning_ids,
            )
            with database_owner(), tenant_context(department):
                connection.cursor().execute("ANALYZE")  # only the tables' owner may
            # The resident: a seeded owner of ten sites, with a password and a verified address.
            resident = User.objects.get(email="owner0@bench.example.org")
            resident.set_password(PASSWORD)
            resident.save()
            EmailAddress.objects.create(user=resident, email=resident.email, verified=True)
            resident_client = Client(HTTP_HOST=HOST)
            signed_in = resident_client.post(
                "/accounts/login/", {"login": resident.email, "password": PASSWORD}
            )
            assert signed_in.status_code == 302, signed_in.status_code
            assert resident_client.get("/my/").status_code == 200
            # The investigator: password and the authenticator app's code.
            email = "investigator@bench.example.org"
            investigator = User.objects.create_user(username=email, email=email, password=PASSWORD)
            EmailAddress.objects.create(user=investigator, email=email, verified=True)
            StaffMember.objects.create(user=investigator, role="investigator")
            TOTP.activate(investigator, TOTP_SECRET)
            staff_client = Client(HTTP_HOST=HOST)
            step = staff_client.post("/accounts/login/", {"login": email, "password": PASSWORD})
            assert step.get("Location") == "/accounts/2fa/authenticate/", step.status_code
            code = format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))
            step = staff_client.post("/accounts/2fa/authenticate/", {"code": code})
            assert step.status_code == 302, step.status_code
            incident = Incident.objects.create(
                kind="crime",
                case_number="LOAD-1",
                latitude=CENTRE[0] + 0.01,
                longitude=CENTRE[1] - 0.01,
                starts_at=timezone.now(),
                ends_at=timezone.now(),
                radius_m=1_000,
                opened_by=investigator,
            )
            canvass_path = f"/department/incidents/{incident.pk}/"
            assert staff_client.get(canvass_path).status_code == 200
        connections.close_all()

        pages = [
            ("city landing page (anonymous)", "/", "", "Bench Registry"),
            (
                "resident's page /my/ (ten sites)",
                "/my/",
                f"sessionid={resident_client.cookies['sessionid'].value}",
                "0 Bench St",
            ),
            (
                "canvass page, 1 km (investigator, MFA)",
                canvass_path,
                f"sessionid={staff_client.cookies['sessionid'].value}",
                "LOAD-1",
            ),
        ]
        os.environ["WEB_CONCURRENCY"] = "2"
        with gunicorn(name, arguments.port, "600") as web, celery_worker(name) as worker:
            celery_main = psutil.Process(worker.pid)
            deadline = time.monotonic() + 120
            while not celery_main.children() and time.monotonic() < deadline:
                if worker.poll() is not None:
                    raise RuntimeError(
                        "the Celery worker stopped; BENCH_CELERY_LOG=FILE keeps its log"
                    )
                time.sleep(0.5)
            time.sleep(10)  # both at rest: booted, nothing asked of them yet
            web_workers = psutil.Process(web.process.pid).children()
            celery_pool = celery_main.children()
            at_rest = rss(web_workers, celery_main, celery_pool)
            report.append("| page | req/s | p50 ms | p95 ms | p99 ms | requests | errors |")
            report.append("|---|---:|---:|---:|---:|---:|---:|")
            for label, path, cookie, expected in pages:
                request = (
                    f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n"
                    f"{'Cookie: ' + cookie + chr(13) + chr(10) if cookie else ''}\r\n"
                ).encode()
                answer = fetch(arguments.port, request)
                if not answer.startswith(b"HTTP/1.1 200") or expected.encode() not in answer:
                    raise RuntimeError(f"{path}: unexpected answer {answer[:300]!r}")
                drive(arguments.port, request, arguments.clients, warm_up)
                latencies, errors = drive(
                    arguments.port, request, arguments.clients, arguments.seconds
                )
                report.append(
                    f"| {label} | {len(latencies) / arguments.seconds:.1f} | "
                    f"{percentile(latencies, 0.50):.0f} | {percentile(latencies, 0.95):.0f} | "
                    f"{percentile(latencies, 0.99):.0f} | {len(latencies)} | {errors} |"
                )
            # Jobs for the Celery worker: area notices, queued as a view queues them.
            app.conf.update(broker_url=BROKER, task_always_eager=False)
            with tenant_context(department):
                recipients_before = NotificationRecipient.objects.count()
                started = time.perf_counter()
                notices = [
                    Notification.objects.create(
                        incident=incident,
                        message="Please check your camera.",
                        radius_m=incident.radius_m,
                        created_by=investigator,
                    )
                    for _ in range(arguments.notices)
                ]
                for notice in notices:
                    notify_area.delay(notice.pk)
                deadline = time.monotonic() + 300
                while time.monotonic() < deadline:
                    pending = sum(
                        1
                        for notice in notices
                        if not notice.recipients.filter(sent_at__isnull=False).exists()
                    )
                    if not pending:
                        break
                    time.sleep(0.5)
                jobs_seconds = time.perf_counter() - started
                emailed = (
                    NotificationRecipient.objects.filter(sent_at__isnull=False).count()
                    - recipients_before
                )
            connections.close_all()
            after = rss(web_workers, celery_main, celery_pool)
            memory.append("| process | RSS at rest, MiB | RSS after, MiB |")
            memory.append("|---|---:|---:|")
            for process_label in at_rest:
                memory.append(
                    f"| {process_label} | {at_rest[process_label]:.0f} | "
                    f"{after[process_label]:.0f} |"
                )
            memory.append(
                f"\nCelery: {arguments.notices} area notices ({emailed} emails) in "
                f"{jobs_seconds:.1f} s" + (" (NOT all delivered)" if pending else "")
            )
    finally:
        database.__exit__(None, None, None)

    load = os.getloadavg()
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}; {server}; load average (1, 5, 15 min) "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} at the start, "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
    )
    print(
        f"{arguments.sites:,} sites; gunicorn -c infra/gunicorn.conf.py with 2 sync workers; "
        f"{arguments.clients} client threads, {arguments.seconds:.0f} s per page "
        f"after {warm_up:.0f} s of warm-up"
    )
    print("\n".join(report))
    print()
    print("\n".join(memory))
    return 0


class celery_worker:
    """A Celery worker on the throwaway database and Redis database 9, as deployed."""

    def __init__(self, database_name: str) -> None:
        self.environment = gunicorn(database_name, 0, "600").environment | {
            "CELERY_BROKER_URL": BROKER,
            "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        }

    def __enter__(self) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "--workdir",
                "platform",
                "-A",
                "canvass",
                "worker",
                "--loglevel",
                "warning",
                "--concurrency",
                "1",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=self.environment,
            stdout=subprocess.DEVNULL,
            stderr=open(os.environ.get("BENCH_CELERY_LOG", os.devnull), "w"),
        )
        return self.process

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def rss(web_workers, celery_main, celery_pool) -> dict[str, float]:
    mib = 1024 * 1024
    sizes = {
        f"gunicorn worker {number}": worker.memory_info().rss / mib
        for number, worker in enumerate(web_workers, 1)
    }
    sizes["Celery worker, main process"] = celery_main.memory_info().rss / mib
    for number, child in enumerate(celery_pool, 1):
        sizes[f"Celery worker, pool process {number}"] = child.memory_info().rss / mib
    return sizes


def fetch(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def drive(port: int, request: bytes, clients: int, seconds: float) -> tuple[list[float], int]:
    """`clients` threads sending `request` one at a time for `seconds`: the milliseconds of
    each answered 200, and how many were not."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop = time.monotonic() + seconds

    def client(number: int) -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            answer = fetch(port, request)
            if answer.startswith(b"HTTP/1.1 200"):
                latencies[number].append((time.perf_counter() - started) * 1000)
            else:
                errors[number] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [value for values in latencies for value in values], sum(errors)


if __name__ == "__main__":
    sys.exit(main())
