"""What the benchmark scripts share: percentiles and timing, a department to measure in, and
the notice queue run through a real Celery worker on Redis when one is running here. Scripts
import it as `benchlib` (Python puts bench/ first on the path of `python bench/x.py`); Django
must be set up before the functions that touch it are called."""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Callable
from typing import Any

CENTRE = (34.7465, -92.2896)  # Little Rock


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def timed(function: Callable[[], object], runs: int) -> list[float]:
    """Milliseconds of each of `runs` calls."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def bench_department(*, radius_m: int, subdomain: str = "bench", name: str = "Bench") -> Any:
    """A department provisioned as the vendor would (its schema cloned, an administrator
    chief@<subdomain>.example.org), centred on Little Rock."""
    from tenants.services import department_provision

    return department_provision(
        subdomain=subdomain,
        name=f"{name} Police Department",
        city="Little Rock" if subdomain == "bench" else name,
        state="AR",
        time_zone="America/Chicago",
        display_name=f"{name} Registry",
        center_latitude=CENTRE[0],
        center_longitude=CENTRE[1],
        service_radius_m=radius_m,
        administrator_email=f"chief@{subdomain}.example.org",
        administrator_password="a-benchmark-passphrase",
    ).department


def seed_sites(
    rng: Any, count: int, *, radius_m: int, integrated_every: int = 0, cameras: bool = True
) -> list[Any]:
    """In the current schema: `count` sites (ten per owner) spread over a disc of `radius_m`
    around CENTRE, every `integrated_every`-th one integrated (none with 0), with one or two
    cameras each unless `cameras` is False. Returns the owners (participants)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from portal.registry.models import Camera, Participant, Site

    now = timezone.now()
    unusable = make_password(None)
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        user_model(
            username=f"owner{n}@bench.example.org",
            email=f"owner{n}@bench.example.org",
            password=unusable,
        )
        for n in range(count // 10 + 1)
    )
    participants = Participant.objects.bulk_create(Participant(user=user) for user in users)
    km = radius_m / 1000
    for start in range(0, count, 5_000):
        sites = []
        for n in range(start, min(count, start + 5_000)):
            distance = km * math.sqrt(rng.random()) * 0.98
            angle = rng.uniform(0, 2 * math.pi)
            integrated = integrated_every and n % integrated_every == 0
            sites.append(
                Site(
                    participant=participants[n // 10],
                    kind="home",
                    address=f"{n} Bench St",
                    latitude=CENTRE[0] + distance * math.cos(angle) / 111.2,
                    longitude=CENTRE[1]
                    + distance * math.sin(angle) / (111.2 * math.cos(math.radians(CENTRE[0]))),
                    participation="integrated" if integrated else "registered",
                    contact_name=f"Owner {n}",
                    contact_phone="+15015550100",
                    contact_method="phone",
                    terms_version=1,
                    terms_accepted_at=now,
                )
            )
        Site.objects.bulk_create(sites)
        if cameras:
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
    return participants


def redis_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


def notify_through_queue(
    notification: Any, owners: int, poll: float = 0.1, concurrency: int = 2, pool: str = "threads"
) -> tuple[float, str]:
    """Seconds to send a notice to `owners` owners through a Celery worker on Redis (database
    14; `concurrency` tasks at a time, two as deployed), or in-process when no Redis runs here;
    and which of the two it was. The worker runs in this process with `pool` "threads" (its
    tasks share this interpreter's lock), or as deployed with "prefork": a `celery worker`
    process of its own (notify_through_worker_process)."""
    from portal.department.tasks import notify_area

    if not redis_running():
        started = time.perf_counter()
        notify_area(notification.pk)
        return time.perf_counter() - started, "in-process (no Redis at 127.0.0.1:6379)"
    if pool == "prefork":
        return notify_through_worker_process(notification, owners, poll, concurrency)
    from celery.contrib.testing.worker import start_worker

    from canvass.celery import app

    app.close()
    app.amqp._producer_pool = None
    app.conf.update(broker_url="redis://127.0.0.1:6379/14", task_always_eager=False)
    try:
        # Two at once, as deployed (`--concurrency 2`, infra/ and docs/operations.md): threads
        # here, sharing this process's interpreter lock where the deployment's processes do not.
        with start_worker(
            app,
            pool="threads",
            concurrency=concurrency,
            perform_ping_check=False,
            shutdown_timeout=30,
        ):
            started = time.perf_counter()
            notify_area.delay(notification.pk)
            sent = notification.recipients.filter(sent_at__isnull=False)
            while sent.count() < owners and time.perf_counter() - started < 300:
                time.sleep(poll)  # a count each time: polling harder slows the worker
            worker = f"a Celery worker on Redis, concurrency {concurrency}"
            return time.perf_counter() - started, worker
    finally:
        app.conf.task_always_eager = True


def notify_through_worker_process(
    notification: Any, owners: int, poll: float, concurrency: int
) -> tuple[float, str]:
    """notify_through_queue with the worker as deployed: `celery -A canvass worker` (prefork,
    `concurrency` processes; the fault tests' harness starts it) beside this process, on this
    database and Redis (database 14), ready before the notice is queued, stopped after. Its
    emails go to Django's in-memory backend in its own processes
    (bench/notify_worker_settings.py), as this process's do."""
    import os
    import sys
    import tempfile
    from pathlib import Path
    from urllib.parse import urlsplit, urlunsplit

    from django.conf import settings

    from canvass import settings as project_settings
    from canvass.celery import app
    from portal.department.tasks import notify_area

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root))
    from tests.faults.harness import CanvassProcess, production_environment

    name = settings.DATABASES["default"]["NAME"]

    def on_this_database(url: str) -> str:
        return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))

    environment = production_environment(
        on_this_database(project_settings.DATABASE_URL),
        on_this_database(project_settings.DATABASE_OWNER_URL),
    ) | {
        "DJANGO_SETTINGS_MODULE": "notify_worker_settings",
        # bench/ last: its canvass.py is not the project's canvass package.
        "PYTHONPATH": os.pathsep.join(str(root / part) for part in ("", "platform", "bench")),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14",
    }
    app.close()
    app.amqp._producer_pool = None
    app.conf.update(broker_url="redis://127.0.0.1:6379/14", task_always_eager=False)
    try:
        with (
            tempfile.TemporaryDirectory() as folder,
            CanvassProcess.celery_worker(
                environment, Path(folder) / "worker.log", "--concurrency", str(concurrency)
            ),
        ):
            started = time.perf_counter()
            notify_area.delay(notification.pk)
            sent = notification.recipients.filter(sent_at__isnull=False)
            while sent.count() < owners and time.perf_counter() - started < 300:
                time.sleep(poll)  # a count each time: polling harder slows the worker
            elapsed = time.perf_counter() - started
    finally:
        app.conf.task_always_eager = True
    return elapsed, f"a Celery worker process on Redis, prefork, concurrency {concurrency}"
