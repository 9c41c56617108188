"""How fast the department console is at registry scale.

In a throwaway database: departments of 30,000 sites each (the first is Little Rock at its
goal) and one of 300,000 (ten times it, a county's registry). Each figure stands beside its
floor measured in the same run: the bare SQL of the same query (executed and fetched through
the same connection), so the ratio shows what Django and the page add. In the first department:
- the canvass search as the bare selector (`sites_near`, as Python objects) and through the
  HTTP view (the canvass page, rendered through the tenant middleware), at 250 m, 1 km and
  5 km: median and 95th percentile, and the page's size;
- the 1 km canvass page with the console's kept fragments (template_fragments) and with them
  emptied before each page, taken in turn;
- 20 staff canvassing at once (20 threads with their own sessions and connections, one
  process: Python's lock serialises the rendering, so this is the stack's contention, not a
  server's throughput);
- notifying 5,000 owners through the queue (Celery on Redis when it runs at 127.0.0.1:6379,
  otherwise in-process); baseline: rendering and sending the same emails in-process.
In the 300,000-site department (its guardrail set to 5 km): a 50 km incident refused, the
canvass page at 5 km, and the registry map's data for the whole city (clustered).
With --profile, cProfile's summary of each slow path is written to bench/profiles/ (and with
BENCH_PROF_DUMP=DIR also its raw statistics, DIR/<name>.prof, for pstats).

    .venv/bin/python bench/canvass.py            # the full size
    .venv/bin/python bench/canvass.py --scale 0.1

Imports are measured by bench/imports.py (through their background jobs).
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
# bench/ is on the path of a script run from it.
from benchlib import (  # noqa: E402
    CENTRE,
    bench_department,
    notify_through_queue,
    percentile,
    seed_sites,
    timed,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

RADIUS_M = 22_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 30,000 sites a city")
    parser.add_argument("--runs", type=int, default=40, help="timed searches per radius")
    parser.add_argument("--cities", type=int, default=1, help="departments of 30,000 to create")
    parser.add_argument("--big", type=int, default=300_000, help="sites of the large city")
    parser.add_argument("--clients", type=int, default=20, help="staff canvassing at once")
    parser.add_argument("--profile", action="store_true", help="write bench/profiles/*.txt")
    parser.add_argument(
        "--only",
        choices=["map", "canvass"],
        help="map: seed the large city alone and measure its registry map data only; "
        "canvass: the canvass pages and selector only (no staff at once, notices or map)",
    )
    arguments = parser.parse_args()
    per_city = int(30_000 * arguments.scale)

    import django

    django.setup()
    from allauth.mfa.totp.internal.auth import TOTP
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from portal.department import selectors as department_selectors
    from portal.department.models import Incident, Notification
    from portal.department.tasks import notify_area
    from portal.registry import selectors
    from portal.registry.models import Participant, Site, StaffMember
    from tenants.database import database_owner, throwaway_database
    from tenants.models import Program
    from tenants.services import platform_site_ensure

    setup_test_environment(debug=False)  # as in production: no query log, no template debug
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    database = throwaway_database(prefix="bench_canvass_")
    database.__enter__()
    report: list[str] = []
    try:
        platform_site_ensure()
        rng = random.Random(1)
        started = time.perf_counter()
        departments = []
        sizes = [per_city] * arguments.cities + [int(arguments.big * arguments.scale)]
        if arguments.only == "map":
            sizes = sizes[-1:]
        for number, size in enumerate(sizes):
            department = bench_department(
                radius_m=RADIUS_M, subdomain=f"city{number}", name=f"City {number}"
            )
            departments.append(department)
            with tenant_context(department):
                seed_sites(rng, size, radius_m=RADIUS_M)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        seeding = time.perf_counter() - started

        for department in departments:
            with database_owner(), tenant_context(department):
                # Only the tables' owner may analyse them.
                connection.cursor().execute("ANALYZE")
        load = os.getloadavg()
        profiles = ROOT / "bench" / "profiles"
        department = departments[0]

        def point() -> tuple[float, float]:
            return (CENTRE[0] + rng.uniform(-0.05, 0.05), CENTRE[1] + rng.uniform(-0.05, 0.05))

        if arguments.only != "map":
            with tenant_context(department):
                staff_user = get_user_model().objects.get(email="chief@city0.example.org")
                TOTP.activate(staff_user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
                assert StaffMember.objects.filter(user=staff_user).exists()
                client = Client(HTTP_HOST="city0.localhost")
                client.force_login(staff_user)

                def incident_at(radius: int, label: str) -> Incident:
                    latitude, longitude = point()
                    return Incident.objects.create(
                        kind="crime",
                        case_number=f"B{label}-{radius}-{rng.randrange(10**9)}",
                        latitude=latitude,
                        longitude=longitude,
                        starts_at=timezone.now(),
                        ends_at=timezone.now(),
                        radius_m=radius,
                        opened_by=staff_user,
                    )

                report.append(
                    "| radius | sites found (median) | `sites_near` as objects p50 / p95 ms | "
                    "its bare SQL p50 ms | ratio | canvass page p50 / p95 ms | the page's bare SQL "
                    "p50 ms | ratio | page's Python CPU p50 ms | statements | page KB |"
                )
                report.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
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

                    def search_sql(radius: int = radius) -> None:
                        latitude, longitude = point()
                        bare_sql(
                            selectors.sites_near(
                                latitude=latitude, longitude=longitude, radius_m=radius
                            )
                        )

                    selector_times = timed(search, arguments.runs)
                    selector_sql = timed(search_sql, arguments.runs)
                    page_times, page_sizes, floor, cpu = canvass_pages(
                        client, [incident_at(radius, "p") for _ in range(arguments.runs)]
                    )
                    counted = statements(client, incident_at(radius, "q"))
                    report.append(
                        f"| {radius} m | {statistics.median(found):,.0f} | "
                        f"{ms(selector_times)} | {statistics.median(selector_sql):.2f} | "
                        f"{statistics.median(selector_times) / statistics.median(selector_sql):.1f}"
                        "x | "
                        f"{ms(page_times)} | {statistics.median(floor):.2f} | "
                        f"{statistics.median(page_times) / statistics.median(floor):.1f}x | "
                        f"{statistics.median(cpu):.1f} | {counted} | "
                        f"{statistics.median(page_sizes) / 1024:.0f} |"
                    )
                    if arguments.profile and radius in (1_000, 5_000):
                        profile(
                            profiles / f"canvass-page-{radius // 1000}km.txt",
                            lambda radius=radius: canvass_pages(
                                client, [incident_at(radius, "prof") for _ in range(20)]
                            ),
                        )
                report.append(
                    kept_fragments_compared(
                        client, [incident_at(1_000, "k") for _ in range(4 * arguments.runs)]
                    )
                )
                report.append(sites_near_parts(selectors, point, arguments.runs * 10))
                if arguments.only is None:
                    # Staff canvassing at once: each with a session, a connection and incidents of
                    # their own, at 1 km.
                    clients = arguments.clients
                    per_client = max(5, arguments.runs // 4)
                    cases = [
                        [incident_at(1_000, f"c{n}") for _ in range(per_client)]
                        for n in range(clients)
                    ]
                    latencies: list[float] = []
                    failures: list[BaseException] = []

                    def canvasser(incidents: list[Incident]) -> None:
                        try:
                            own = Client(HTTP_HOST="city0.localhost")
                            with tenant_context(department):  # this thread's own connection
                                own.force_login(staff_user)
                            times, *_rest = canvass_pages(own, incidents, floor=False)
                            latencies.extend(times)
                        except BaseException as error:  # reported below, not swallowed
                            failures.append(error)
                        finally:
                            connection.close()

                    threads = [threading.Thread(target=canvasser, args=(mine,)) for mine in cases]
                    started = time.perf_counter()
                    for thread in threads:
                        thread.start()
                    for thread in threads:
                        thread.join()
                    elapsed = time.perf_counter() - started
                    assert not failures, failures
                    single = timed(
                        lambda: canvass_pages(client, [incident_at(1_000, "s")], False), 20
                    )
                    report.append(
                        f"\n{clients} staff canvassing at once (1 km, "
                        f"{clients * per_client} pages): "
                        f"{clients * per_client / elapsed:.0f} pages/s, latency p50 / p95 "
                        f"{ms(latencies)} ms; one at a time in the same run: "
                        f"{1000 / statistics.median(single):.0f} pages/s, p50 "
                        f"{statistics.median(single):.1f} ms."
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
                    mail.outbox = []
                    queued, mode = notify_through_queue(notification, owners, poll=0.05)
                    delivered = notification.recipients.filter(sent_at__isnull=False).count()
                    # The baseline's notice is another case at the same place: owners contacted
                    # about a case are not contacted again, so a second notice of the same
                    # incident would send nothing.
                    baseline_incident = Incident.objects.get(pk=incident.pk)
                    baseline_incident.pk = None
                    baseline_incident.case_number = "NOTIFY-BASELINE"
                    baseline_incident.save()
                    baseline_notification = Notification.objects.create(
                        incident=baseline_incident,
                        message="Please check your camera.",
                        radius_m=incident.radius_m,
                        created_by=staff_user,
                    )
                    started = time.perf_counter()
                    notify_area(baseline_notification.pk)
                    in_process = time.perf_counter() - started
                    report.append(
                        f"Notifying {owners:,} owners through the queue ({mode}): "
                        f"{queued:.1f} s for "
                        f"{delivered:,} emails; baseline, the same job run in-process: "
                        f"{in_process:.1f} s "
                        f"(ratio {queued / in_process:.2f})."
                    )

        # Ten times Little Rock: the canvass at 5 km, the guardrail, the whole city's map.
        big = departments[-1]
        # In metres: the radii the refusals below type are metres.
        Program.objects.filter(department=big).update(
            search_radius_max_m=5_000, distance_units="metric"
        )
        with tenant_context(big):
            chief = get_user_model().objects.get(email=f"chief@city{len(sizes) - 1}.example.org")
            TOTP.activate(chief, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
            county = Client(HTTP_HOST=f"city{len(sizes) - 1}.localhost")
            county.force_login(chief)
            if arguments.only != "map":
                category = big.program.offence_type_choices()[0][0]
                asked = {
                    "kind": "missing_person",
                    "category": category,
                    "case_number": "WIDE-1",
                    "address": "x",
                    "latitude": f"{CENTRE[0]:.5f}",
                    "longitude": f"{CENTRE[1]:.5f}",
                    "starts_at": "2026-11-20T21:00",
                    "ends_at": "2026-11-20T23:00",
                    "radius_m": "50000",
                }
                refusals = []
                for overrides in ({}, {"kind": "crime"}, {"radius_m": "2501"}):
                    response = county.post("/department/incidents/", asked | overrides)
                    refusals.append(response.status_code)
                    assert "searches at most 5000 m" in response.content.decode(), overrides
                assert not Incident.objects.filter(case_number="WIDE-1").exists()

                def county_case() -> Incident:
                    latitude, longitude = point()
                    return Incident.objects.create(
                        kind="crime",
                        case_number=f"C5-{rng.randrange(10**9)}",
                        latitude=latitude,
                        longitude=longitude,
                        starts_at=timezone.now(),
                        ends_at=timezone.now(),
                        radius_m=5_000,
                        opened_by=chief,
                    )

                county_cases = [county_case() for _ in range(arguments.runs)]
                found = [
                    department_selectors.canvass_search(case).count() for case in county_cases[:5]
                ]
                page_times, sizes_kb, floor, cpu = canvass_pages(county, county_cases)
                counted = statements(county, county_case())
                # The canvass selector's first part (the page's 100 and the total) against the
                # single windowed query that read and sorted every site of the radius (its bare
                # SQL), alternating over the same cases.
                selector_ms, windowed_ms = [], []
                for case in county_cases:
                    started = time.perf_counter()
                    part = department_selectors.canvass(case, limit=100)
                    selector_ms.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    bare_sql(
                        department_selectors.canvass_counted(
                            department_selectors.canvass_search(case)
                        )[:100]
                    )
                    windowed_ms.append((time.perf_counter() - started) * 1000)
                    assert part.total == department_selectors.canvass_search(case).count()
                report.append(
                    f"\nIn the {sizes[-1]:,}-site city (guardrail 5 km): 50 km asked, 50 km as a "
                    f"crime and 2,501 m for a missing person (5,002 m searched) refused with the "
                    f"guardrail's message (status {', '.join(map(str, refusals))}, nothing "
                    "opened). "
                    f"Canvass page at 5 km ({statistics.median(found):,.0f} sites, 100 listed): "
                    f"p50 / p95 {ms(page_times)} ms, {statistics.median(sizes_kb) / 1024:.0f} KB; "
                    f"its bare SQL p50 {statistics.median(floor):.1f} ms "
                    f"(ratio {statistics.median(page_times) / statistics.median(floor):.1f}x); "
                    f"the page's Python CPU p50 {statistics.median(cpu):.1f} ms, {counted} "
                    "statements. The canvass selector's first part (100 and the total, from the "
                    f"kept cells) p50 / p95 {ms(selector_ms)} ms; the single windowed query's "
                    f"bare SQL over the same cases {ms(windowed_ms)} ms."
                )
                if arguments.profile:
                    profile(
                        profiles / "canvass-page-5km-300k.txt",
                        lambda: canvass_pages(county, [county_case() for _ in range(20)]),
                    )

            if arguments.only != "canvass":
                # The registry map of the whole city, clustered as the map asks at zoom 11 (and
                # 13, where it has more cells): from the counts kept per cell, checked against the
                # grouping of every site. Floors: the grouping's bare SQL (what the map ran before
                # the counts were kept) and the bare SQL of the kept counts' read.
                box = {"south": 34.54, "west": -92.54, "north": 34.95, "east": -92.04}
                grid = department_selectors.Grid.of(big.program)
                everyone = department_selectors.MapFilters()
                for zoom in (11, 13):
                    query = (
                        f"/department/map/data.json?bbox={box['south']},{box['west']},"
                        f"{box['north']},{box['east']}&zoom={zoom}"
                    )
                    clusters = county.get(query).json()["clusters"]
                    assert sum(c["count"] for c in clusters) >= sizes[-1] * 0.9, clusters
                    grouped = department_selectors.site_clusters(
                        department_selectors.sites_on_map(everyone),
                        cell_deg=department_selectors.cluster_cell(zoom),
                        grid=grid,
                        **box,
                    )
                    assert sorted(map(str, clusters)) == sorted(map(str, grouped)), zoom

                    def map_data(query: str = query) -> None:
                        assert county.get(query).status_code == 200

                    def grouping_sql(zoom: int = zoom) -> None:
                        bare_sql(
                            department_selectors.cluster_counts(
                                department_selectors.sites_on_map(everyone),
                                cell_deg=department_selectors.cluster_cell(zoom),
                                **box,
                            )
                        )

                    def counted_sql(zoom: int = zoom) -> None:
                        counted_cells_sql(zoom, box)

                    map_times = timed(map_data, arguments.runs)
                    grouping_floor = timed(grouping_sql, max(5, arguments.runs // 4))
                    counted_floor = timed(counted_sql, arguments.runs)
                    report.append(
                        f"Registry map data for the whole city (zoom {zoom}, "
                        f"{len(clusters)} clusters "
                        f"of {sum(c['count'] for c in clusters):,} sites, the same as the grouping "
                        f"gives): p50 / p95 {ms(map_times)} ms; the kept counts' bare SQL p50 "
                        f"{statistics.median(counted_floor):.1f} ms (ratio "
                        f"{statistics.median(map_times) / statistics.median(counted_floor):.1f}x); "
                        f"the grouping's bare SQL (before) p50 / p95 {ms(grouping_floor)} ms."
                    )
                    if arguments.profile and zoom == 11:
                        profile(
                            profiles / "map-data-300k.txt", lambda: [map_data() for _ in range(10)]
                        )
    except BaseException:
        print("\n".join(report))  # what was measured before the failure
        raise
    finally:
        database.__exit__(None, None, None)

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, {memory:.0f} GiB, "
        f"Python {platform_module.python_version()}; {server}; load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (after seeding), "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} (at the end)"
    )
    print(
        f"data: departments of {', '.join(f'{size:,}' for size in sizes)} sites "
        f"(seeded in {seeding:.0f} s)"
    )
    print("\n".join(report))
    return 0


def ms(times: list[float]) -> str:
    return f"{statistics.median(times):.1f} / {percentile(times, 0.95):.1f}"


def bare_sql(queryset) -> int:
    """The floor of a query: its SQL executed and fetched through the same connection, with
    no model, no row class and no template."""
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def sites_near_parts(selectors, point: Callable[[], tuple[float, float]], runs: int) -> str:
    """Where `sites_near` at 1 km (as Site objects) spends its time, part by part, each part
    timed alone over the same points: building and compiling the query (Django's ORM), running
    the compiled SQL and fetching its rows (psycopg), and making the Site objects from rows
    already fetched (Django's Model.from_db, as the queryset does), beside the whole; and the
    live cameras' search (the sites near the point among some sites) as a refined queryset and
    kept compiled."""
    from django.db import connection

    from portal.department.selectors import CanvassSite, canvass_rows
    from portal.registry.models import Site

    points = [point() for _ in range(runs)]
    compiled = [
        selectors.sites_near(latitude=lat, longitude=lng, radius_m=1_000).query.sql_with_params()
        for lat, lng in points
    ]
    names = [field.attname for field in Site._meta.concrete_fields]
    fetched: list[list[tuple[object, ...]]] = []

    def each(work: Callable[[int], object]) -> list[float]:
        times = []
        for number in range(runs):
            started = time.perf_counter()
            work(number)
            times.append((time.perf_counter() - started) * 1000)
        return times

    def whole(number: int) -> None:
        lat, lng = points[number]
        list(selectors.sites_near(latitude=lat, longitude=lng, radius_m=1_000))

    def compile_only(number: int) -> None:
        lat, lng = points[number]
        selectors.sites_near(latitude=lat, longitude=lng, radius_m=1_000).query.sql_with_params()

    def run_only(number: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute(*compiled[number])
            rows = cursor.fetchall()
        if len(fetched) < runs:
            fetched.append(rows)

    def objects_only(number: int) -> None:
        for row in fetched[number]:
            site = Site.from_db("default", names, row[: len(names)])
            site.__dict__["distance_m"], site.__dict__["footage_likely"] = row[len(names) :]

    def kept(number: int) -> None:
        lat, lng = points[number]
        numbers = selectors.NearNumbers.of(latitude=lat, longitude=lng, radius_m=1_000)
        rows = canvass_rows(numbers, counted=False, start=0, stop=None)
        [CanvassSite(index, *row) for index, row in enumerate(rows, start=1)]

    # The live cameras' search: the sites near the point among those with a shared camera
    # (here 200 of the city's sites taken at random), as a refined queryset and kept.
    some = [pk for (pk,) in Site.objects.order_by("?").values_list("pk")[:200]]

    def among_queryset(number: int) -> None:
        lat, lng = points[number]
        near = selectors.sites_near(latitude=lat, longitude=lng, radius_m=1_000)
        [site.pk for site in near.filter(pk__in=some)]

    def among_kept(number: int) -> None:
        lat, lng = points[number]
        selectors.sites_near_among(some, latitude=lat, longitude=lng, radius_m=1_000)

    parts = [
        ("the whole (`sites_near`, as Site objects)", each(whole)),
        (
            "the same search kept compiled and prepared, as the canvass reads it "
            "(`canvass_rows`, as CanvassSite objects)",
            each(kept),
        ),
        ("building and compiling the query", each(compile_only)),
        ("running the compiled SQL, rows fetched", each(run_only)),
        ("making the Site objects from fetched rows", each(objects_only)),
        (
            "the live cameras' search among 200 sites, as a refined queryset "
            "(`sites_near(...).filter(pk__in=...)`, before)",
            each(among_queryset),
        ),
        (
            "the same, kept compiled and prepared (`sites_near_among`, as the live cameras' "
            "link reads it)",
            each(among_kept),
        ),
    ]
    sites = statistics.median(len(rows) for rows in fetched)
    return (
        f"\n`sites_near` at 1 km, part by part ({runs} points, {sites:.0f} sites found "
        "(median)):\n\n| part | p50 ms | p95 ms |\n|---|---:|---:|\n"
        + "\n".join(f"| {name} | {ms(times).replace(' / ', ' | ')} |" for name, times in parts)
    )


def counted_cells_sql(zoom: int, box: dict[str, float]) -> int:
    """The floor of the map's clusters: the kept counts' read for the cells inside the box, as
    map_clusters sends it, executed and fetched bare."""
    from django.db import connection

    from portal.department import selectors

    sql, params, _finest = selectors.counted_cells_query(selectors.MapFilters(), zoom=zoom, **box)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def canvass_pages(client, incidents, floor: bool = True):
    """Each incident's canvass page (its first visit: audited, as a new case's would be):
    times in ms, sizes in bytes, the bare SQL of its canvass query (ms) as the floor, and the
    Python CPU time of each page (ms: this process's, the database server's not included)."""
    from portal.department import selectors

    times, sizes, floors, cpu = [], [], [], []
    for incident in incidents:
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(f"/department/incidents/{incident.pk}/")
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert response.status_code == 200, response.status_code
        sizes.append(len(response.content))
        if floor:
            query = selectors.canvass_counted(selectors.canvass_search(incident))[:100]
            started = time.perf_counter()
            bare_sql(query)
            floors.append((time.perf_counter() - started) * 1000)
    return times, sizes, floors, cpu


def kept_fragments_compared(client, incidents) -> str:
    """The 1 km canvass page with the console's kept fragments (the template_fragments cache:
    the map's scripts, the notice field, the rows' stamps) and with that cache emptied before
    each page, as if nothing were kept: pages of both kinds taken in turn in one process, so
    that the machine's drift falls on both alike."""
    from django.core.cache import caches

    fragments = caches["template_fragments"]
    rendered: tuple[list[float], list[float]] = ([], [])
    kept: tuple[list[float], list[float]] = ([], [])
    for number, incident in enumerate(incidents):
        empty = number % 2 == 0
        if empty:
            fragments.clear()
        times, _sizes, _floors, cpu = canvass_pages(client, [incident], floor=False)
        into = rendered if empty else kept
        into[0].extend(times)
        into[1].extend(cpu)
    rows = "\n".join(
        f"| {name} | {len(times)} | {ms(times)} | {statistics.median(cpu):.1f} |"
        for name, (times, cpu) in (
            ("fragments rendered on every page (the cache emptied before each)", rendered),
            ("fragments kept (as deployed)", kept),
        )
    )
    saved = statistics.median(rendered[1]) - statistics.median(kept[1])
    return (
        "\nThe 1 km canvass page with and without the kept fragments, taken in turn:\n\n"
        "| pages | n | p50 / p95 ms | Python CPU p50 ms |\n|---|---:|---:|---:|\n"
        f"{rows}\n\nKept fragments save {saved:.1f} ms of CPU per page (p50 against p50)."
    )


def statements(client, incident) -> int:
    """How many SQL statements one canvass page (a first visit) sends, the session's, the
    tenant's and the audit's included."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/department/incidents/{incident.pk}/").status_code == 200
    return len(captured.captured_queries)


def profile(path: Path, work: Callable[[], object]) -> None:
    """cProfile's 30 costliest functions (cumulative) and 20 costliest bodies (their own time)
    of the work, kept beside the bench."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    work()
    profiler.disable()
    if os.environ.get("BENCH_PROF_DUMP"):
        profiler.dump_stats(f"{os.environ['BENCH_PROF_DUMP']}/{path.stem}.prof")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(30)
    stats.sort_stats("tottime").print_stats(20)
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        f"# .venv/bin/python bench/canvass.py --profile ({path.stem})\n{out.getvalue()}"
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


if __name__ == "__main__":
    sys.exit(main())
