"""An annual council report for a city with a million audit entries over two years.

In a throwaway database: one department, its audit trail seeded with INSERT ... SELECT
generate_series (as the tables' owner, the chain trigger switched off so that entries can be
spread over two years: the trigger stamps every entry with the database's clock), the counted
actions in realistic shares across the department's offence types. Then, in the city's time
zone:
- the report's figures for the last 12 months and for the whole two years (aggregate SQL by
  month and category), with a stored chain check (the scheduled nightly check's verdict, or a
  report's own, is reused for 24 hours);
- the hash chain's verification (portal.registry's own check, entry by entry), timed on a
  trail written through the chain trigger (--chained entries) and extrapolated linearly to the
  seeded size: what a report pays when no check is stored.

    .venv/bin/python bench/council_report.py                       # 1,000,000 entries
    .venv/bin/python bench/council_report.py --entries 100000 --chained 20000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
from benchlib import bench_department, timed  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# Shares of the trail: the counted actions, then the rest (views of the canvass and the map).
ACTIONS = ["reveal"] * 6 + ["footage_request"] * 2 + ["notify", "live_feed", "download"]
ACTIONS += ["canvass_view"] * 6 + ["map_view"] * 3 + ["export"]
SEED = """
INSERT INTO registry_auditentry
    (at, actor_email, actor_role, action, category, case_number, note, reason, prev_hash, hash)
SELECT at, 'officer' || (g %% 40) || '@bench.example.org', 'investigator',
       (%(actions)s)[1 + floor(random() * %(n_actions)s)::int],
       (%(categories)s)[1 + floor(random() * %(n_categories)s)::int],
       'B-' || (g %% 5000), '', 'Benchmark entry', '', ''
FROM (SELECT g, now() - random() * interval '730 days' AS at
      FROM generate_series(1, %(entries)s) g ORDER BY at) seeded
"""


def array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{value}'" for value in values) + "]"


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--chained", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from portal.council_reports import services
    from portal.council_reports.figures import report_figures
    from portal.council_reports.models import ChainCheck
    from portal.registry.audit_chain import audit_chain_verify
    from portal.registry.models import AuditEntry
    from tenants.database import database_owner, throwaway_database
    from tenants.services import platform_site_ensure

    setup_test_environment(debug=False)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    database = throwaway_database(prefix="bench_reports_")
    database.__enter__()
    lines: list[str] = []
    try:
        platform_site_ensure()
        city = bench_department(radius_m=20_000, subdomain="bench", name="Bench")
        chained = bench_department(radius_m=20_000, subdomain="chained", name="Chained")
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
        started = time.perf_counter()
        with database_owner(), tenant_context(chained), connection.cursor() as cursor:
            cursor.execute(sql.replace(str(arguments.entries), str(arguments.chained)))
        chained_seeding = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]

        with tenant_context(city), city.in_time_zone():
            now = timezone.now()
            today = timezone.localdate()
            # A fresh check covering every entry: the figures alone are timed here.
            ChainCheck.objects.create(
                checked_at=now,
                entries=arguments.entries,
                last_entry_id=AuditEntry.objects.order_by("-pk").values_list("pk", flat=True)[0],
            )
            program = city.program

            def year() -> None:
                report_figures(
                    program=program, start=today - timedelta(days=364), end=today, now=now
                )

            def two_years() -> None:
                report_figures(
                    program=program, start=today - timedelta(days=729), end=today, now=now
                )

            def generate() -> None:
                services.report_generate(
                    department=city, start=today - timedelta(days=364), end=today
                )

            timed(year, 1)
            from portal.council_reports.documents import report_pdf

            drafted = services.report_generate(
                department=city, start=today - timedelta(days=364), end=today
            )
            report_pdf(drafted, city)  # WeasyPrint's fonts loaded once
            pdf_times = timed(lambda: report_pdf(drafted, city), arguments.runs)
            pdf_bytes = len(report_pdf(drafted, city))
            year_times = timed(year, arguments.runs)
            two_year_times = timed(two_years, arguments.runs)
            generate_times = timed(generate, arguments.runs)
            figures_entries = AuditEntry.objects.filter(at__gte=now - timedelta(days=365)).count()

        with tenant_context(chained):
            walk_times = timed(audit_chain_verify, max(arguments.runs // 2, 1))
            verdict = audit_chain_verify()
            # The nightly check's verdict kept, then a day of entries (a million over two
            # years: about 1,400), then a report's check two days later: the tail only.
            from portal.council_reports.figures import chain_check, chain_check_store

            newest = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True)[0]
            chain_check_store(
                verdict=verdict, last_entry_id=newest, now=timezone.now() - timedelta(days=2)
            )
        with database_owner(), tenant_context(chained), connection.cursor() as cursor:
            cursor.execute(sql.replace(str(arguments.entries), "1400"))
        with tenant_context(chained):
            started = time.perf_counter()
            tail = chain_check(None, timezone.now())
            tail_s = time.perf_counter() - started
            assert tail.broken_at is None and tail.after is not None
        walk_s = statistics.median(walk_times) / 1000
        scale = arguments.entries / max(verdict.entries, 1)

        def seconds(times: list[float]) -> str:
            return f"median {statistics.median(times) / 1000:.2f} s, max {max(times) / 1000:.2f} s"

        load = os.getloadavg()
        lines += [
            f"{arguments.entries:,} audit entries over 730 days seeded in {seeding:.1f} s "
            f"(chain trigger off); {server}; Python {platform_module.python_version()}; "
            f"{os.cpu_count()} CPUs; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
            f"Annual report figures ({figures_entries:,} entries in the year): "
            f"{seconds(year_times)} over {arguments.runs} runs",
            f"Two-year report figures: {seconds(two_year_times)}",
            f"The annual report's PDF (WeasyPrint, {pdf_bytes:,} bytes): {seconds(pdf_times)}",
            f"Annual report generated and stored (report_generate, chain check reused): "
            f"{seconds(generate_times)}",
            f"Hash chain verification (the registry's walk, as manage.py audit_verify) of "
            f"{verdict} written through the trigger in {chained_seeding:.1f} s: median "
            f"{walk_s:.2f} s; extrapolated to {arguments.entries:,} entries: "
            f"{walk_s * scale:.1f} s",
            f"Annual report with no stored check at all (figures + the whole walk, "
            f"extrapolated): {statistics.median(generate_times) / 1000 + walk_s * scale:.1f} s",
            f"A report's chain check two days after the last stored one (1,400 new entries "
            f"walked after it): {tail_s:.2f} s",
        ]
    finally:
        database.__exit__(None, None, None)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
