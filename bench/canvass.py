"""How fast the department console is at registry scale.

In a throwaway database: ten departments of 30,000 sites each (300,000 in all; the first is
Little Rock at its goal). Then, in the first department:
- the canvass search as the bare selector (`sites_near`) and through the HTTP view (the canvass
  page, rendered through the tenant middleware), at 250 m, 1 km and 5 km: median and 95th
  percentile; baseline: the same distance filter without the bounding box (a full scan);
- notifying 5,000 owners through the queue (Celery on Redis when it runs at 127.0.0.1:6379,
  otherwise in-process); baseline: rendering and sending the same emails in-process.

    .venv/bin/python bench/canvass.py            # the full size
    .venv/bin/python bench/canvass.py --scale 0.1

Imports are measured by bench/imports.py (through their background jobs).
"""

from __future__ import annotations

import argparse
import math
import os
import platform as platform_module
import random
import socket
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CENTRE = (34.7465, -92.2896)  # Little Rock
RADIUS_M = 22_000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def timed(function: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 30,000 sites a city")
    parser.add_argument("--runs", type=int, default=40, help="timed searches per radius")
    parser.add_argument("--cities", type=int, default=10, help="departments to create")
    arguments = parser.parse_args()
    per_city = int(30_000 * arguments.scale)

    import django

    django.setup()
    from allauth.mfa.totp.internal.auth import TOTP
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core import mail
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from portal.department.models import Incident, Notification
    from portal.department.tasks import notify_area
    from portal.registry import selectors
    from portal.registry.models import Camera, Participant, Site, StaffMember
    from tenants.database import database_owner, throwaway_database
    from tenants.services import department_provision, platform_site_ensure

    setup_test_environment(debug=False)  # as in production: no query log, no template debug
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    database = throwaway_database()
    database.__enter__()
    report: list[str] = []
    try:
        platform_site_ensure()
        rng = random.Random(1)
        started = time.perf_counter()
        departments = []
        for number in range(arguments.cities):
            result = department_provision(
                subdomain=f"city{number}",
                name=f"City {number} Police Department",
                city=f"City {number}",
                state="AR",
                time_zone="America/Chicago",
                display_name=f"City {number} Registry",
                center_latitude=CENTRE[0],
                center_longitude=CENTRE[1],
                service_radius_m=RADIUS_M,
                administrator_email=f"chief@city{number}.example.org",
                administrator_password="a-benchmark-passphrase",
            )
            departments.append(result.department)
            with tenant_context(result.department):
                seed(
                    rng, per_city, get_user_model(), make_password(None), Participant, Site, Camera
                )
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        seeding = time.perf_counter() - started

        department = departments[0]
        with database_owner(), tenant_context(department):
            # Only the tables' owner may analyse them.
            connection.cursor().execute("ANALYZE")
        with tenant_context(department):
            staff_user = get_user_model().objects.get(email="chief@city0.example.org")
            TOTP.activate(staff_user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
            assert StaffMember.objects.filter(user=staff_user).exists()
            client = Client(HTTP_HOST="city0.localhost")
            client.force_login(staff_user)

            def point() -> tuple[float, float]:
                return (CENTRE[0] + rng.uniform(-0.05, 0.05), CENTRE[1] + rng.uniform(-0.05, 0.05))

            report.append(
                "| radius | sites found (median) | selector p50 ms | selector p95 ms | "
                "full-scan baseline p50 ms | ratio | page p50 ms | page p95 ms |"
            )
            report.append("|---|---:|---:|---:|---:|---:|---:|---:|")
            for radius in (250, 1_000, 5_000):
                found: list[int] = []

                def search(radius: int = radius, found: list[int] = found) -> None:
                    latitude, longitude = point()
                    found.append(
                        len(
                            list(
                                selectors.sites_near(
                                    latitude=latitude, longitude=longitude, radius_m=radius
                                )
                            )
                        )
                    )

                def scan(radius: int = radius) -> None:
                    # The same search with PostgreSQL forbidden to use an index: a full scan.
                    latitude, longitude = point()
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute("SET LOCAL enable_indexscan = off")
                        cursor.execute("SET LOCAL enable_bitmapscan = off")
                        list(
                            selectors.sites_near(
                                latitude=latitude, longitude=longitude, radius_m=radius
                            )
                        )

                selector_times = timed(search, arguments.runs)
                scan_times = timed(scan, max(5, arguments.runs // 8))
                incidents = [
                    Incident.objects.create(
                        kind="crime",
                        case_number=f"B{radius}-{n}",
                        latitude=point()[0],
                        longitude=point()[1],
                        starts_at=timezone.now(),
                        ends_at=timezone.now(),
                        radius_m=radius,
                        opened_by=staff_user,
                    )
                    for n in range(arguments.runs)
                ]
                pages = iter(incidents)

                def page(pages: Iterator[Incident] = pages) -> None:
                    response = client.get(f"/department/incidents/{next(pages).pk}/")
                    assert response.status_code == 200, response.status_code

                page_times = timed(page, arguments.runs)
                report.append(
                    f"| {radius} m | {statistics.median(found):.0f} | "
                    f"{statistics.median(selector_times):.1f} | "
                    f"{percentile(selector_times, 0.95):.1f} | "
                    f"{statistics.median(scan_times):.1f} | "
                    f"{statistics.median(scan_times) / statistics.median(selector_times):.0f}x | "
                    f"{statistics.median(page_times):.1f} | {percentile(page_times, 0.95):.1f} |"
                )

            # Notify 5,000 owners (at scale) near one point.
            owners = int(5_000 * arguments.scale)
            incident = seed_notification_area(
                rng, owners, staff_user, Participant, Site, Incident, get_user_model()
            )
            notification = Notification.objects.create(
                incident=incident,
                message="Please check your camera.",
                radius_m=incident.radius_m,
                created_by=staff_user,
            )
            mode = "in-process (no Redis)"
            mail.outbox = []
            if redis_running():
                from celery.contrib.testing.worker import start_worker

                from canvass.celery import app

                app.close()
                app.amqp._producer_pool = None
                app.conf.update(broker_url="redis://127.0.0.1:6379/14", task_always_eager=False)
                with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
                    started = time.perf_counter()
                    notify_area.delay(notification.pk)
                    sent = notification.recipients.filter(sent_at__isnull=False)
                    while sent.count() < owners and time.perf_counter() - started < 300:
                        time.sleep(0.05)
                    queued = time.perf_counter() - started
                mode = "Celery worker on Redis"
            else:
                started = time.perf_counter()
                notify_area(notification.pk)
                queued = time.perf_counter() - started
            delivered = notification.recipients.filter(sent_at__isnull=False).count()
            baseline_notification = Notification.objects.create(
                incident=incident,
                message="Please check your camera.",
                radius_m=incident.radius_m,
                created_by=staff_user,
            )
            started = time.perf_counter()
            notify_area(baseline_notification.pk)
            in_process = time.perf_counter() - started
            report.append(
                f"Notifying {owners:,} owners through the queue ({mode}): {queued:.1f} s for "
                f"{delivered:,} emails; baseline, the same job run in-process: {in_process:.1f} s "
                f"(ratio {queued / in_process:.2f})."
            )
    finally:
        database.__exit__(None, None, None)

    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}; {server}"
    )
    print(
        f"data: {arguments.cities} departments x {per_city:,} sites = "
        f"{arguments.cities * per_city:,} sites "
        f"(seeded in {seeding:.0f} s)"
    )
    print("\n".join(report))
    return 0


def seed(rng, count, user_model, unusable, Participant, Site, Camera) -> None:
    """count sites (ten per owner) spread over the service area, one or two cameras each."""
    from django.utils import timezone

    now = timezone.now()
    users = user_model.objects.bulk_create(
        user_model(
            username=f"owner{n}@bench.example.org",
            email=f"owner{n}@bench.example.org",
            password=unusable,
        )
        for n in range(count // 10 + 1)
    )
    participants = Participant.objects.bulk_create(Participant(user=user) for user in users)
    km = RADIUS_M / 1000
    for start in range(0, count, 5_000):
        sites = []
        for n in range(start, min(count, start + 5_000)):
            distance = km * math.sqrt(rng.random()) * 0.98
            angle = rng.uniform(0, 2 * math.pi)
            sites.append(
                Site(
                    participant=participants[n // 10],
                    kind="home",
                    address=f"{n} Bench St",
                    latitude=CENTRE[0] + distance * math.cos(angle) / 111.2,
                    longitude=CENTRE[1]
                    + distance * math.sin(angle) / (111.2 * math.cos(math.radians(CENTRE[0]))),
                    contact_name=f"Owner {n}",
                    contact_phone="+15015550100",
                    contact_method="phone",
                    terms_version=1,
                    terms_accepted_at=now,
                )
            )
        Site.objects.bulk_create(sites)
        Camera.objects.bulk_create(
            Camera(
                site=site,
                label=f"c{k}",
                direction=rng.randrange(360),
                sees=["street"],
                mount="wall",
                recording="motion",
                retention_days=rng.choice((7, 14, 30)),
            )
            for site in sites
            for k in range(1 + (site.pk % 2))
        )


def seed_notification_area(rng, owners, staff_user, Participant, Site, Incident, user_model):
    """owners owners with one site each within 1 km of a point far from the other data."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    centre = (CENTRE[0] + 0.15, CENTRE[1])
    unusable = make_password(None)
    users = user_model.objects.bulk_create(
        user_model(
            username=f"area{n}@bench.example.org",
            email=f"area{n}@bench.example.org",
            password=unusable,
        )
        for n in range(owners)
    )
    participants = Participant.objects.bulk_create(Participant(user=user) for user in users)
    Site.objects.bulk_create(
        Site(
            participant=participant,
            kind="home",
            address=f"{n} Area Rd",
            latitude=centre[0] + rng.uniform(-0.006, 0.006),
            longitude=centre[1] + rng.uniform(-0.006, 0.006),
            contact_name="x",
            contact_method="email",
            terms_version=1,
            terms_accepted_at=timezone.now(),
        )
        for n, participant in enumerate(participants)
    )
    return Incident.objects.create(
        kind="other",
        case_number="NOTIFY",
        latitude=centre[0],
        longitude=centre[1],
        starts_at=timezone.now(),
        ends_at=timezone.now(),
        radius_m=1_000,
        opened_by=staff_user,
    )


def redis_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
