"""The directory of participating cities (/cities/) with 1,000 departments: milliseconds per
request, p50 and p95, against /health/live through the same stack in the same run.

In a throwaway database (`bench_directory_` beside the project's), 1,000 departments' public rows
(department, branding, programme, primary address; no schemas: the directory reads nothing
else), placed at real US ZIP codes' centres (the zipcodes package), a third with a logo, 3 %
suspended and 5 % not listed. Django's test client then asks each path `--runs` times (DEBUG
off, the cache in memory as without Redis):
- /health/live (the floor: answered by the second middleware, no query), and the platform's
  home page (the whole middleware stack, the host's department looked up, a template);
- the directory's first page and its tenth (50 cities a page, by state and city);
- a search by a city's name, and by a ZIP code (distances computed in SQL);
- map.json from the cache (as nearly every request finds it) and built anew (cache emptied).

    .venv/bin/python bench/directory.py
    .venv/bin/python bench/directory.py --departments 1000 --runs 300
    .venv/bin/python bench/directory.py --profile /tmp/prof   # also cProfiles of both paths
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
# bench/ is on the path of a script run from it.
from benchlib import percentile, timed  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

HOST = "localhost"  # the platform site


def seed(count: int, rng: random.Random) -> None:
    """`count` departments' public rows at real ZIP codes' centres, one per city."""
    import zipcodes
    from django.utils.text import slugify

    from tenants.models import Branding, Department, Domain, Program

    places: dict[tuple[str, str], tuple[float, float]] = {}
    for row in zipcodes.filter_by(zip_code_type="STANDARD", active=True):
        if row["lat"] and row["long"] and len(row["state"]) == 2:
            places.setdefault((row["city"], row["state"]), (float(row["lat"]), float(row["long"])))
    chosen = rng.sample(sorted(places), count)
    statuses = [Department.Status.ACTIVE] * 97 + [Department.Status.SUSPENDED] * 3
    departments = Department.objects.bulk_create(
        [
            Department(
                schema_name=f"bench{number:04}",
                name=f"{city} Police Department",
                city=city,
                state=state,
                status=rng.choice(statuses),
                listed=rng.random() > 0.05,
            )
            for number, (city, state) in enumerate(chosen)
        ],
        batch_size=500,
    )
    Branding.objects.bulk_create(
        [
            Branding(
                department=department,
                display_name=f"{department.city} Community Camera Registry",
                logo=f"logos/{department.schema_name}/logo.png" if rng.random() < 0.33 else "",
                languages=["en", "es"],
            )
            for department in departments
        ],
        batch_size=500,
    )
    Program.objects.bulk_create(
        [
            Program(
                department=department,
                center_latitude=places[(department.city, department.state)][0],
                center_longitude=places[(department.city, department.state)][1],
                service_radius_m=rng.choice([8_000, 12_000, 16_000, 22_000]),
            )
            for department in departments
        ],
        batch_size=500,
    )
    Domain.objects.bulk_create(
        [
            Domain(
                domain=f"{slugify(department.city)}-{department.schema_name}.localhost",
                tenant=department,
                is_primary=True,
            )
            for department in departments
        ],
        batch_size=500,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=300, help="requests per path")
    parser.add_argument("--profile", metavar="DIR", help="keep cProfiles of 200 requests each")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from website.directory import MAP_CACHE_KEY, zip_centre

    from tenants.database import database_owner, throwaway_database
    from tenants.models import Department
    from tenants.services import platform_site_ensure

    setup_test_environment(debug=False)
    settings.ALLOWED_HOSTS = ["*"]
    with open("/proc/loadavg") as loadavg:
        load_before = loadavg.read().split()[:3]
    database = throwaway_database(prefix="bench_directory_")
    database.__enter__()
    report: list[str] = []
    try:
        platform_site_ensure()
        seed(arguments.departments, random.Random(15))
        with database_owner(), connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # only the tables' owner may
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        listed = Department.objects.listed().count()
        sample = Department.objects.listed().order_by("pk")[arguments.departments // 2]
        zip_code = "28025"
        zip_centre(zip_code)  # the package unpacks its data once per process (timed apart)

        client = Client(HTTP_HOST=HOST)

        def get(path: str) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        def map_uncached() -> None:
            cache.delete(MAP_CACHE_KEY)
            get("/cities/map.json")

        paths = [
            ("/health/live (floor)", lambda: get("/health/live")),
            ("/ (the platform's home page)", lambda: get("/")),
            ("/cities/ (page 1 of 50 cities)", lambda: get("/cities/")),
            ("/cities/?page=10", lambda: get("/cities/?page=10")),
            (f"/cities/?q={sample.city} (a city)", lambda: get(f"/cities/?q={sample.city}")),
            (f"/cities/?q={zip_code} (a ZIP code)", lambda: get(f"/cities/?q={zip_code}")),
            ("/cities/map.json (cached)", lambda: get("/cities/map.json")),
            ("/cities/map.json (built anew)", map_uncached),
        ]
        report.append("| path | queries | p50 ms | p95 ms | p95 / floor's p95 |")
        report.append("|---|---:|---:|---:|---:|")
        floor = 0.0
        for label, call in paths:
            timed(call, 20)  # warm up: templates, translations, the connection
            queries = QueryCount()
            with connection.execute_wrapper(queries):
                call()
            times = timed(call, arguments.runs)
            p50, p95 = percentile(times, 0.50), percentile(times, 0.95)
            floor = floor or p95
            report.append(
                f"| {label} | {queries.count} | {p50:.1f} | {p95:.1f} | {p95 / floor:.1f} |"
            )
        if arguments.profile:
            folder = Path(arguments.profile)
            folder.mkdir(parents=True, exist_ok=True)
            profile(client, "/cities/", 200, folder / "directory-page.prof")
            profile(client, "/cities/map.json", 200, folder / "directory-map.prof")
    finally:
        database.__exit__(None, None, None)

    with open("/proc/loadavg") as loadavg:
        load_after = loadavg.read().split()[:3]
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}; {server}; load average (1, 5, 15 min) "
        f"{' '.join(load_before)} at the start, {' '.join(load_after)} at the end"
    )
    print(
        f"{arguments.departments:,} departments ({listed:,} listed); Django's test client, "
        f"DEBUG off, {arguments.runs} requests per path"
    )
    print("\n".join(report))
    return 0


class QueryCount:
    """Counts the queries of one request (Django's own log is reset as each request starts)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


def profile(client: object, path: str, runs: int, out: Path) -> None:
    import cProfile

    cProfile.runctx("for _ in range(runs): client.get(path)", globals(), locals(), str(out))


if __name__ == "__main__":
    raise SystemExit(main())
