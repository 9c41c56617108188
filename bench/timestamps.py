"""What reading times costs: rows shaped as a 1 km search's sites (66 rows of a site's 24
columns, four of them `timestamp with time zone`), read through the project's connection with
psycopg's C loader for the times (tenants.postgresql, as deployed) and, in the same run on the
same connection, with Django's own loader registered on the cursor (what Django 5.2 does by
itself). Floor: the same rows with the four times sent as text (nothing parsed).

    .venv/bin/python bench/timestamps.py [--runs 500]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform as platform_module
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
# bench/ is on the path of a script run from it.
from benchlib import percentile, timed  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

# A site's columns: ids, text, numbers, flags and its four times.
COLUMNS = (
    "g AS id, g AS participant_id, 'home' AS kind, g || ' Bench St' AS address, "
    "34.75::numeric(9, 6) AS latitude, -92.31::numeric(9, 6) AS longitude, "
    "'registered' AS participation, 'Owner ' || g AS contact_name, '' AS contact_phone, "
    "'' AS contact_email, 'email' AS contact_method, '' AS contact_hours, false AS paused, "
    "'2026-01' AS terms_version, {time} AS terms_accepted_at, false AS yard_sign_requested, "
    "'' AS yard_sign_address, {time} AS yard_sign_delivered_at, NULL::bigint AS delivered_by, "
    "{time} AS created_at, {time} AS updated_at, 412.5::float8 AS distance_m, true AS likely, "
    "g AS spare"
)
TIME = "now() - g * interval '1 hour 7 minutes 3.25 seconds'"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--rows", type=int, default=66)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    load_before = os.getloadavg()
    rows = f" FROM generate_series(1, {arguments.rows}) g"
    with_times = "SELECT " + COLUMNS.format(time=TIME) + rows
    as_text = "SELECT " + COLUMNS.format(time=f"({TIME})::text") + rows

    def read(sql: str, django_loader: bool = False) -> None:
        with connection.cursor() as cursor:
            if django_loader:
                register_tzloader(datetime.UTC, cursor.cursor)
            cursor.execute(sql)
            cursor.fetchall()

    for warm in (with_times, as_text):
        read(warm)
    cases = [
        ("psycopg's C loader (tenants.postgresql, deployed)", lambda: read(with_times)),
        ("Django's loader (Django 5.2 alone)", lambda: read(with_times, django_loader=True)),
        ("floor: the times sent as text", lambda: read(as_text)),
    ]
    # Interleaved in rounds, so that a noisy moment falls on all three alike.
    times: dict[str, list[float]] = {name: [] for name, _work in cases}
    for _round in range(10):
        for name, work in cases:
            times[name].extend(timed(work, arguments.runs // 10))
    floor = statistics.median(times[cases[-1][0]])
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        server = cursor.fetchone()[0].split(" on ")[0]
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, Python "
        f"{platform_module.python_version()}; {server}; load average {load_before[0]:.2f} "
        f"{load_before[1]:.2f} {load_before[2]:.2f} (start), "
        f"{' '.join(f'{value:.2f}' for value in os.getloadavg())} (end)"
    )
    print(f"{arguments.rows} rows of a site's 24 columns, 4 of them times; {arguments.runs} reads")
    print("| read | p50 ms | p95 ms | ratio to the floor |")
    print("|---|---:|---:|---:|")
    for name, _work in cases:
        median = statistics.median(times[name])
        print(
            f"| {name} | {median:.3f} | {percentile(times[name], 0.95):.3f} | "
            f"{median / floor:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
