"""The public transparency page of a city with 30,000 sites and two years of audit history (a
million entries): milliseconds per request, p50 and p95, against the city's landing page
through the same stack in the same run.

In a throwaway database (`test_` beside the project's), one department (Little Rock's centre,
22 km): 30,000 sites (Django's bulk_create), a million audit entries spread evenly over the
last 730 days (one INSERT … SELECT generate_series as the table's owner, with the chain trigger
off, so that the entries can carry past times; then chained by the migration's own rule: one
UPDATE per entry in id order, which is the slow part, timed and printed), 2,000 area notices
with 25 owners each, 20,000 live-view grants and 1,000 opt-outs. The scheduled job then runs
once (timed), the audit-chain check once (timed; its verdict is published), and Django's test
client asks each path `--runs` times (DEBUG off):
- the city's landing page (the floor: the same middleware, branding and a template);
- /transparency/, data.json, data.csv and feed.atom.

    .venv/bin/python bench/transparency.py
    .venv/bin/python bench/transparency.py --entries 100000 --runs 100
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
# bench/ is on the path of a script run from it.
from benchlib import CENTRE, bench_department, percentile, seed_sites, timed  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

RADIUS_M = 22_000
ACTIONS = (
    ["reveal"] * 50
    + ["canvass_view"] * 20
    + ["footage_request"] * 10
    + ["map_view"] * 10
    + ["notify"] * 3
    + ["live_feed"] * 4
    + ["live_feed_end"] * 3
)

AUDIT_SQL = """
INSERT INTO registry_auditentry
    (at, actor_email, actor_role, action, site_id, participant_id, incident_id, case_number,
     category, note, reason, prev_hash, hash)
SELECT now() - interval '730 days' + g * (interval '730 days' / %(n)s),
       'officer' || (g %% 40) || '@bench.example.org', 'investigator',
       (%(actions)s::text[])[1 + g %% %(kinds)s],
       1 + g %% %(sites)s, 1 + g %% %(owners)s, 1 + g %% 2000, 'B-' || (g %% 2000),
       (ARRAY['burglary', 'robbery', 'assault', 'vehicle_crime', 'vandalism',
              'missing_person'])[1 + g %% 6],
       '', 'Bench entry', '', ''
FROM generate_series(1, %(n)s) AS g
"""

CHAIN_SQL = """
DO $$
DECLARE
    entry record;
    previous text := repeat('0', 64);
BEGIN
    SET LOCAL TimeZone = 'UTC';
    SET LOCAL IntervalStyle = 'iso_8601';
    FOR entry IN SELECT e.id, to_jsonb(e) AS body FROM registry_auditentry e ORDER BY e.id LOOP
        UPDATE registry_auditentry SET prev_hash = previous,
            hash = encode(sha256(convert_to(
                previous || E'\\n'
                || registry_auditentry_canonical(entry.body - 'hash' - 'prev_hash'),
                'UTF8')), 'hex')
        WHERE id = entry.id RETURNING hash INTO previous;
    END LOOP;
END;
$$;
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=30_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200, help="timed requests per path")
    parser.add_argument("--no-chain", action="store_true", help="skip chaining the entries")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from portal.department.models import Incident, Notification, NotificationRecipient
    from portal.liveview.models import Grant
    from portal.registry import tasks as registry_tasks
    from portal.registry.models import Camera, OptOut, StaffMember
    from portal.transparency.services import figures_refresh
    from tenants.database import database_owner, throwaway_database
    from tenants.services import platform_site_ensure

    setup_test_environment(debug=False)
    settings.ALLOWED_HOSTS = ["*"]
    database = throwaway_database()
    database.__enter__()
    report: list[str] = []
    try:
        platform_site_ensure()
        rng = random.Random(1)
        department = bench_department(radius_m=RADIUS_M, subdomain="bench", name="Bench")
        with tenant_context(department):
            started = time.perf_counter()
            owners = seed_sites(
                rng, arguments.sites, radius_m=RADIUS_M, integrated_every=20, cameras=False
            )
            staff = StaffMember.objects.select_related("user").first()
            assert staff is not None
            seed_casework(
                rng,
                owners,
                staff,
                Incident,
                Notification,
                NotificationRecipient,
                Grant,
                Camera,
                OptOut,
            )
            report.append(f"registry and casework seeded in {time.perf_counter() - started:.1f} s")

            started = time.perf_counter()
            with database_owner(), tenant_context(department), connection.cursor() as cursor:
                cursor.execute(
                    "ALTER TABLE registry_auditentry DISABLE TRIGGER registry_auditentry_chain"
                )
                cursor.execute(
                    AUDIT_SQL,
                    {
                        "n": arguments.entries,
                        "actions": ACTIONS,
                        "kinds": len(ACTIONS),
                        "sites": arguments.sites,
                        "owners": len(owners),
                    },
                )
                cursor.execute(
                    "ALTER TABLE registry_auditentry ENABLE TRIGGER registry_auditentry_chain"
                )
            report.append(
                f"{arguments.entries:,} audit entries inserted in "
                f"{time.perf_counter() - started:.1f} s"
            )
            if not arguments.no_chain:
                started = time.perf_counter()
                with database_owner(), tenant_context(department), connection.cursor() as cursor:
                    # As the migration that made the chain does for older entries.
                    cursor.execute("GRANT UPDATE ON registry_auditentry TO CURRENT_USER")
                    cursor.execute(
                        "ALTER TABLE registry_auditentry DISABLE TRIGGER "
                        "registry_auditentry_no_update_delete"
                    )
                    cursor.execute(CHAIN_SQL)
                    cursor.execute(
                        "ALTER TABLE registry_auditentry ENABLE TRIGGER "
                        "registry_auditentry_no_update_delete"
                    )
                    cursor.execute("REVOKE UPDATE ON registry_auditentry FROM CURRENT_USER")
                report.append(
                    f"... chained (one UPDATE per entry) in {time.perf_counter() - started:.1f} s"
                )
            with database_owner(), tenant_context(department), connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            cursor = connection.cursor()
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]

            started = time.perf_counter()
            months = figures_refresh(department=department, now=timezone.now())
            report.append(
                f"refresh job (first run, {months} months): {time.perf_counter() - started:.2f} s"
            )
            started = time.perf_counter()
            figures_refresh(department=department, now=timezone.now())
            report.append(
                f"refresh job (hourly run, 2 months): {time.perf_counter() - started:.2f} s"
            )
            if not arguments.no_chain:
                started = time.perf_counter()
                verdict = registry_tasks.audit_verify()
                report.append(
                    f"audit chain check: {verdict} in {time.perf_counter() - started:.1f} s"
                )

            client = Client(HTTP_HOST="bench.localhost")
            for path in ("/", "/transparency/"):
                assert client.get(path).status_code == 200, path
            load = os.getloadavg()
            rows = []
            for path in (
                "/",
                "/transparency/",
                "/transparency/data.json",
                "/transparency/data.csv",
                "/transparency/feed.atom",
            ):
                client.get(path)  # warm
                times = timed(lambda path=path: client.get(path), arguments.runs)
                size = len(client.get(path).content)
                rows.append(
                    f"| `{path}` | {percentile(times, 0.5):.1f} | "
                    f"{percentile(times, 0.95):.1f} | {size / 1024:.0f} KB |"
                )
            # A first visit after each hourly refresh renders the page anew.
            from django.core.cache import cache

            def uncached() -> None:
                cache.clear()
                client.get("/transparency/")

            times = timed(uncached, arguments.runs)
            rows.append(
                f"| `/transparency/` (cache emptied) | {percentile(times, 0.5):.1f} | "
                f"{percentile(times, 0.95):.1f} | |"
            )
    finally:
        from django.db import connections

        # The server drops the database only once nobody is connected to it.
        connections.close_all()
        database.__exit__(None, None, None)

    print(
        f"Machine: {platform_module.processor() or platform_module.machine()}, "
        f"{os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}, {server}"
    )
    print(f"Load average before timing: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    for line in report:
        print(line)
    print(
        f"{arguments.sites:,} sites, {arguments.entries:,} audit entries, "
        f"{arguments.runs} requests a path"
    )
    print("| path | p50 ms | p95 ms | size |")
    print("|---|---|---|---|")
    for row in rows:
        print(row)
    return 0


def seed_casework(
    rng, owners, staff, Incident, Notification, NotificationRecipient, Grant, Camera, OptOut
):
    """Two years of casework: 2,000 incidents each with an area notice to 25 owners (half
    answer), 20,000 live-view grants, 1,000 opt-outs; times spread over the 730 days."""
    from django.utils import timezone

    from portal.liveview.models import Device

    now = timezone.now()
    categories = ["burglary", "robbery", "assault", "vehicle_crime", "vandalism", "missing_person"]
    incidents = Incident.objects.bulk_create(
        Incident(
            kind="crime",
            case_number=f"B-{n}",
            category=categories[n % 6],
            latitude=CENTRE[0],
            longitude=CENTRE[1],
            starts_at=now,
            ends_at=now,
            radius_m=500,
            opened_by=staff.user,
        )
        for n in range(2_000)
    )
    notifications = Notification.objects.bulk_create(
        Notification(
            incident=incident, kind="area", message="Check", radius_m=500, created_by=staff.user
        )
        for incident in incidents
    )
    # auto_now_add: spread them afterwards, one statement.
    for index, notification in enumerate(notifications):
        notification.created_at = now - timedelta(days=730 * index / len(notifications))
    Notification.objects.bulk_update(notifications, ["created_at"], batch_size=1000)
    NotificationRecipient.objects.bulk_create(
        (
            NotificationRecipient(
                notification=notification,
                participant=owners[(i * 25 + k) % len(owners)],
                claimed_at=now,
                sent_at=now,
                answer=("has_footage" if k % 4 == 0 else "nothing") if k % 2 == 0 else "",
            )
            for i, notification in enumerate(notifications)
            for k in range(25)
        ),
        batch_size=5_000,
    )
    from portal.registry.models import Site

    integrated = list(Site.objects.filter(participation="integrated")[:1_000])
    Device.objects.bulk_create(
        Device(site=site, credential_id=f"bench{site.pk}", credential_hash="x")
        for site in integrated
    )
    cameras = Camera.objects.bulk_create(
        Camera(
            site=site,
            label="Street",
            direction=0,
            sees=["street"],
            mount="wall",
            recording="motion",
            retention_days=14,
        )
        for site in integrated
    )
    reasons = [("active_threat", True), ("missing_person", True), ("investigation", False)]
    grants = []
    for n in range(20_000):
        opened = now - timedelta(days=730 * n / 20_000)
        reason, emergency = reasons[n % 3]
        grants.append(
            Grant(
                staff=staff,
                staff_email=staff.user.email,
                staff_role=staff.role,
                camera=cameras[n % len(cameras)],
                reason=reason,
                emergency=emergency,
                case_number=f"B-{n}",
                opened_at=opened,
                expires_at=opened + timedelta(minutes=15),
                ended_at=opened + timedelta(minutes=rng.randint(1, 15)),
                ended_why="closed",
            )
        )
    Grant.objects.bulk_create(grants, batch_size=5_000)
    optouts = OptOut.objects.bulk_create(
        OptOut(sites_deleted=1, cameras_deleted=1, account_closed=True) for _ in range(1_000)
    )
    for index, optout in enumerate(optouts):
        optout.created_at = now - timedelta(days=730 * index / len(optouts))
    OptOut.objects.bulk_update(optouts, ["created_at"], batch_size=1000)


if __name__ == "__main__":
    raise SystemExit(main())
