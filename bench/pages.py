"""Pages per second under gunicorn with six clients, against a static file through the same
stack.

In a throwaway database (`bench_pages_` beside the project's), one department of N sites (30,000 by
default, Little Rock's goal) with an administrator signed in and an incident whose canvass
searches 1 km. Then gunicorn with infra/gunicorn.conf.py (its workers, its access log) serves
the project on loopback, as production would run it but with DEBUG off and without Redis, and a
small threaded client (six threads, one request at a time each, a new connection per request
as gunicorn's sync workers close them) asks for, during `--seconds` each:
- a static file (the floor: WhiteNoise answers it before the department is looked up);
- the landing page of the city's portal (anonymous);
- the license page of the department console (the administrator): the staff requests' own
  cost (sessions, the account, the staff member and their second factor, the console's layout);
- the canvass page of the incident at 1 km (the administrator).
Beside each rate, the CPU milliseconds a request cost gunicorn (master and workers), the
PostgreSQL server's processes and this process (the clients), read from /proc: the three share
the machine's cores. Each path is measured with the deployment's defaults (persistent
connections: DB_CONN_MAX_AGE 600) and with a connection per request (DB_CONN_MAX_AGE=0), in the
same run.

    .venv/bin/python manage.py collectstatic --noinput -v 0   # WhiteNoise serves .data/static
    .venv/bin/python bench/pages.py
    .venv/bin/python bench/pages.py --sites 3000 --seconds 5

`--profile DIR` also keeps a cProfile of 200 landing pages (anonymous) and 50 canvass pages
(the administrator) rendered in this process (DIR/pages-landing.prof, DIR/pages-canvass.prof);
BENCH_GUNICORN_LOG=FILE keeps gunicorn's error log.
"""

from __future__ import annotations

import argparse
import math
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
from benchlib import CENTRE, bench_department  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

RADIUS_M = 22_000
HOST = "bench.localhost"
CLIENTS = 6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=30_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured per path")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--profile", metavar="DIR")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, connections
    from django.test.utils import setup_test_environment
    from django_tenants.utils import tenant_context

    from portal.department.models import Incident
    from portal.registry import selectors
    from portal.registry.models import Camera, Participant, Site
    from tenants.database import database_owner, throwaway_database
    from tenants.db import copy_rows, copy_rows_returning_ids
    from tenants.services import platform_site_ensure

    static_file = ROOT / ".data" / "static" / "portal" / "portal.css"
    if not static_file.exists():
        sys.exit("Run `manage.py collectstatic --noinput` first: WhiteNoise serves .data/static.")
    setup_test_environment(debug=False)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    load_before = os.getloadavg()
    database = throwaway_database(prefix="bench_pages_")
    name = database.__enter__()
    report: list[str] = []
    try:
        platform_site_ensure()
        department = bench_department(radius_m=RADIUS_M)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        rng = random.Random(1)
        with tenant_context(department):
            seed(
                rng,
                arguments.sites,
                get_user_model(),
                Participant,
                Site,
                Camera,
                copy_rows,
                copy_rows_returning_ids,
            )
            with database_owner(), tenant_context(department):
                connection.cursor().execute("ANALYZE")  # only the tables' owner may
            client, cookie, incident = signed_in_canvass(Incident)
            canvass_path = f"/department/incidents/{incident.pk}/"
            found = len(
                selectors.sites_near(
                    latitude=incident.latitude,
                    longitude=incident.longitude,
                    radius_m=incident.search_radius_m,
                )
            )
            if arguments.profile:
                profile_pages(client, canvass_path, Path(arguments.profile))
        connections.close_all()

        paths = [
            ("static file (floor)", "/static/portal/portal.css", ""),
            ("landing page", "/", ""),
            # The console's layout and what a signed-in staff request pays before its view
            # (session, account, staff member, second factor), with one query of its own.
            ("staff page (license)", "/department/license/", cookie),
            (f"canvass page, 1 km ({found} sites listed)", canvass_path, cookie),
        ]
        report.append(
            "| path | connections | req/s | ratio to the static file | errors | CPU ms a "
            "request: gunicorn | database server | client |"
        )
        report.append("|---|---|---:|---:|---:|---:|---:|---:|")
        # The production defaults, then the landing page rendered for every visitor (as
        # before tenants.page_cache), then the host's department read on every request (as
        # before the host cache), then a connection per request.
        modes = (("600", "5", "30"), ("600", "5", "0"), ("600", "0", "0"), ("0", "5", "30"))
        for conn_max_age, host_cache, kept in modes:
            mode = "persistent" if conn_max_age != "0" else "one per request"
            mode += ", host cache " + ("off" if host_cache == "0" else f"{host_cache} s")
            mode += ", landing kept " + ("off" if kept == "0" else f"{kept} s")
            with gunicorn(name, arguments.port, conn_max_age, host_cache, kept) as served:
                rates = {}
                for label, path, cookies in paths:
                    request = get_request(path, cookies)
                    hammer(arguments.port, request, 1.0)  # warm every worker up
                    before = cpu_seconds(served.process.pid)
                    done, errors = hammer(arguments.port, request, arguments.seconds)
                    spent = [
                        (after - earlier) * 1000 / max(done, 1)
                        for after, earlier in zip(
                            cpu_seconds(served.process.pid), before, strict=True
                        )
                    ]
                    rates[label] = done / arguments.seconds
                    report.append(
                        f"| {label} | {mode} | {rates[label]:.0f} | "
                        f"{rates[label] / rates['static file (floor)']:.2f} | {errors} | "
                        + " | ".join(f"{value:.2f}" for value in spent)
                        + " |"
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
        f"{arguments.sites:,} sites; gunicorn -c infra/gunicorn.conf.py, {CLIENTS} clients, "
        f"{arguments.seconds:.0f} s per path"
    )
    print("\n".join(report))
    return 0


class gunicorn:
    """gunicorn serving the throwaway database on loopback, for the length of a with-block."""

    def __init__(self, database_name, port, conn_max_age, host_cache="5", kept="30"):
        from urllib.parse import urlsplit, urlunsplit

        from django.conf import settings

        def url(project_url):
            # The project's URL (the embedded server's socket in its query) for this database.
            parts = urlsplit(project_url)
            return urlunsplit(parts._replace(path=f"/{database_name}"))

        self.port = port
        self.environment = os.environ | {
            "DATABASE_URL": url(settings.DATABASE_URL),
            "DATABASE_OWNER_URL": url(settings.DATABASE_OWNER_URL),
            "DB_CONN_MAX_AGE": conn_max_age,
            "TENANT_HOST_CACHE_SECONDS": host_cache,
            "PORTAL_LANDING_SECONDS": kept,
            "DEBUG": "false",
            "ALLOWED_HOSTS": ".localhost,localhost,127.0.0.1",
            "BIND": f"127.0.0.1:{port}",
            "CELERY_BROKER_URL": "",
        }

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "infra/gunicorn.conf.py", "canvass.wsgi"],
            cwd=ROOT,
            env=self.environment,
            stdout=subprocess.DEVNULL,
            stderr=open(os.environ.get("BENCH_GUNICORN_LOG", os.devnull), "w"),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        self.process.kill()
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)


def cpu_seconds(gunicorn_pid):
    """CPU seconds (user and system) used so far by gunicorn (its master and workers), by the
    PostgreSQL server's processes on this machine, and by this process (the clients' threads),
    read from /proc: where a request's machine time goes, since the three share two cores."""
    ticks = os.sysconf("SC_CLK_TCK")
    workers = server = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        command, fields = (
            stat[stat.index("(") + 1 : stat.rindex(")")],
            stat.rsplit(")", 1)[1].split(),
        )
        # After the command: state, ppid, ... utime and stime are the 12th and 13th.
        used = (int(fields[11]) + int(fields[12])) / ticks
        if command == "postgres":
            server += used
        elif int(entry.name) == gunicorn_pid or int(fields[1]) == gunicorn_pid:
            workers += used
    own = os.times()
    return workers, server, own.user + own.system


def signed_in_canvass(incident_model):
    """The bench department's administrator signed in (their second factor activated, as staff
    must have one), their session cookie, and a new incident whose canvass searches 1 km, its
    page visited once (the visit's audit entry written). In the current department."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    staff_user = get_user_model().objects.get(email="chief@bench.example.org")
    TOTP.activate(staff_user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    client = Client(HTTP_HOST=HOST)
    client.force_login(staff_user)
    incident = incident_model.objects.create(
        kind="crime",  # a missing person widens the search (search_radius_m)
        case_number="BENCH-1",
        latitude=CENTRE[0] + 0.01,
        longitude=CENTRE[1] - 0.01,
        starts_at=timezone.now(),
        ends_at=timezone.now(),
        radius_m=1_000,
        opened_by=staff_user,
    )
    assert client.get(f"/department/incidents/{incident.pk}/").status_code == 200
    return client, f"sessionid={client.cookies['sessionid'].value}", incident


def get_request(path, cookies=""):
    """A GET of `path` on the bench department's host, closing its connection (as gunicorn's
    sync workers do), with the cookies when given."""
    cookie = f"Cookie: {cookies}\r\n" if cookies else ""
    return f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n{cookie}\r\n".encode()


def hammer(port, request, seconds):
    """CLIENTS threads sending `request` one at a time for `seconds`: (responses, errors)."""
    counts = [0] * CLIENTS
    errors = [0] * CLIENTS
    statuses: set[str] = set()
    stop = time.monotonic() + seconds

    def client(number):
        while time.monotonic() < stop:
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(request)
                chunks = []
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
            status = b"".join(chunks[:1])[9:12]
            if status == b"200":
                counts[number] += 1
            else:
                errors[number] += 1
                statuses.add(b"".join(chunks)[:300].decode(errors="replace"))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for answer in list(statuses)[:2]:
        print("unexpected answer:", answer, file=sys.stderr)
    return sum(counts), sum(errors)


def profile_pages(client, canvass_path, folder):
    import cProfile

    folder.mkdir(parents=True, exist_ok=True)
    from django.test import Client

    anonymous = Client(HTTP_HOST=HOST)
    for name, path, runs, visitor in (
        ("landing", "/", 200, anonymous),
        ("canvass", canvass_path, 50, client),
    ):
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(runs):
            visitor.get(path)
        profile.disable()
        profile.dump_stats(str(folder / f"pages-{name}.prof"))


def seed(rng, count, user_model, Participant, Site, Camera, copy_rows, copy_rows_returning_ids):
    """count sites (ten per owner) spread over the service area, one or two cameras each."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    now = timezone.now()
    owners = count // 10 + 1
    copy_rows(
        user_model,
        (
            (f"owner{n}@bench.example.org", f"owner{n}@bench.example.org", make_password(None), now)
            for n in range(owners)
        ),
        columns=("username", "email", "password", "date_joined"),
    )
    users = list(
        user_model.objects.filter(email__endswith="@bench.example.org")
        .exclude(email="chief@bench.example.org")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    participants = copy_rows_returning_ids(
        Participant,
        ((user, now, now) for user in users),
        columns=("user_id", "confirmed_at", "created_at"),
    )
    km = RADIUS_M / 1000

    def site(n):
        distance = km * math.sqrt(rng.random()) * 0.98
        angle = rng.uniform(0, 2 * math.pi)
        return (
            participants[n // 10],
            "home",
            f"{n} Bench St",
            CENTRE[0] + distance * math.cos(angle) / 111.2,
            CENTRE[1] + distance * math.sin(angle) / (111.2 * math.cos(math.radians(CENTRE[0]))),
            f"Owner {n}",
            "+15015550100",
            "phone",
            1,
            now,
            now,
            now,
        )

    sites = copy_rows_returning_ids(
        Site,
        (site(n) for n in range(count)),
        columns=(
            "participant_id",
            "kind",
            "address",
            "latitude",
            "longitude",
            "contact_name",
            "contact_phone",
            "contact_method",
            "terms_version",
            "terms_accepted_at",
            "created_at",
            "updated_at",
        ),
    )
    copy_rows(
        Camera,
        (
            (site, f"c{k}", rng.randrange(360), ["street"], "wall", "motion", 7)
            for site in sites
            for k in range(1 + site % 2)
        ),
        columns=("site_id", "label", "direction", "sees", "mount", "recording", "retention_days"),
    )


if __name__ == "__main__":
    sys.exit(main())
