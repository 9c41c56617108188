"""The department's audit page over a million entries: each filter's first page and a page
deep in the trail, read a page at a time by id (portal.department.selectors.audit_page), and
what a page count (Django's Paginator: COUNT over the filtered entries) would add.

In a throwaway database: one department whose trail is seeded with INSERT ... SELECT
generate_series in time order (as the tables' owner, the chain trigger switched off so that
entries can be spread over two years), 40 staff members, 5,000 case numbers and the actions
in the shares bench/council_report.py uses.

    .venv/bin/python bench/audit_trail.py                       # 1,000,000 entries
    .venv/bin/python bench/audit_trail.py --entries 100000 --runs 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
from benchlib import bench_department, percentile, timed  # noqa: E402
from council_report import ACTIONS, SEED, array  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PAGE = 50


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from portal.department.selectors import AuditFilters, audit_page, audit_trail
    from portal.registry.models import AuditEntry
    from tenants.database import database_owner, throwaway_database
    from tenants.services import platform_site_ensure

    setup_test_environment(debug=False)
    database = throwaway_database(prefix="bench_audit_")
    database.__enter__()
    lines: list[str] = []
    try:
        platform_site_ensure()
        city = bench_department(radius_m=20_000)
        codes = [offence["code"] for offence in city.program.offence_types]
        sql = SEED % {
            "actions": array(ACTIONS),
            "n_actions": len(ACTIONS),
            "categories": array(codes),
            "n_categories": len(codes),
            "entries": arguments.entries,
        }
        started = time.perf_counter()
        with database_owner(), tenant_context(city), connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE registry_auditentry DISABLE TRIGGER registry_auditentry_chain"
            )
            cursor.execute(sql)
            cursor.execute(
                "ALTER TABLE registry_auditentry ENABLE TRIGGER registry_auditentry_chain"
            )
            cursor.execute("ANALYZE registry_auditentry")
        seeding = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]

        with tenant_context(city), city.in_time_zone():
            today = timezone.localdate()
            middle = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True)[
                arguments.entries // 2
            ]
            cases = {
                "no filter": AuditFilters(),
                "case number": AuditFilters(case_number="B-1234"),
                "action (reveal, 18%)": AuditFilters(action="reveal"),
                "action (export, 5%)": AuditFilters(action="export"),
                "action absent from the trail": AuditFilters(action="support_end"),
                "staff member (part of an email)": AuditFilters(actor="officer7@"),
                "one day": AuditFilters.of_days(
                    date_from=today - timedelta(days=100), date_to=today - timedelta(days=100)
                ),
                "a month and an action": AuditFilters.of_days(
                    date_from=today - timedelta(days=400),
                    date_to=today - timedelta(days=370),
                    action="reveal",
                ),
                "case and action": AuditFilters(case_number="B-1234", action="reveal"),
            }
            lines.append(
                "| filter | first page p50 ms | p95 | page at the trail's middle p50 ms | p95 "
                "| COUNT p50 ms | rows |"
            )
            lines.append("|---|---:|---:|---:|---:|---:|---:|")
            for label, filters in cases.items():
                entries = audit_trail(filters)

                def first(entries=entries) -> None:
                    audit_page(entries, size=PAGE)

                def deep(entries=entries) -> None:
                    audit_page(entries, size=PAGE, before=middle)

                def count(entries=entries) -> int:
                    return entries.count()

                first()
                first_times = timed(first, arguments.runs)
                deep_times = timed(deep, arguments.runs)
                count_times = timed(count, max(arguments.runs // 4, 3))
                lines.append(
                    f"| {label} | {statistics.median(first_times):.1f} | "
                    f"{percentile(first_times, 0.95):.1f} | {statistics.median(deep_times):.1f} | "
                    f"{percentile(deep_times, 0.95):.1f} | {statistics.median(count_times):.0f} "
                    f"| {count():,} |"
                )
        load = os.getloadavg()
        lines.insert(
            0,
            f"{arguments.entries:,} entries over 730 days seeded in {seeding:.1f} s; {server}; "
            f"{os.cpu_count()} CPUs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
            f"{arguments.runs} runs per page, pages of {PAGE}",
        )
    finally:
        database.__exit__(None, None, None)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
