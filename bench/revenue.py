"""The billing console's revenue page at scale: 100 departments x 1,000 device subscriptions.

In a throwaway database: 100 department rows made with bulk_create (no schemas: the revenue page
reads the public schema only) and 1,000 subscriptions each (100,000), spread over four plans,
started over the last 36 months, about 12% ended, 5% past due, 3% complimentary, 2% still at
checkout. Then, signed in as vendor staff with the billing permission, through the HTTP view
(tenant middleware, sessions, the second-factor and permission checks, template rendering):
- the revenue page (MRR/ARR per city and in total, the 24-month series and its SVG chart);
- the floor: the fulfilment queue, empty (the same middleware and checks, one trivial query).
Median and 95th percentile of each, and their ratio.

    .venv/bin/python bench/revenue.py
    .venv/bin/python bench/revenue.py --departments 10 --per-department 100 --runs 20
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
# bench/ is on the path of a script run from it.
from benchlib import percentile, timed  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument("--per-department", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=100, help="timed requests per page")
    arguments = parser.parse_args()

    import django

    django.setup()
    from allauth.mfa.totp.internal.auth import TOTP
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from billing.models import DevicePlan, Subscription
    from tenants.database import database_owner, throwaway_database
    from tenants.demo import vendor_billing_grant
    from tenants.models import Department
    from tenants.services import platform_site_ensure, staff_account_ensure

    setup_test_environment(debug=False)  # as in production: no query log, no template debug
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    database = throwaway_database()
    database.__enter__()
    try:
        platform_site_ensure()
        rng = random.Random(9)
        now = timezone.now()
        started = time.perf_counter()
        departments = Department.objects.bulk_create(
            Department(
                schema_name=f"bench{number}",
                name=f"City {number:03d} Police Department",
                city=f"City {number:03d}",
                state="AR",
                time_zone="America/Chicago",
            )
            for number in range(arguments.departments)
        )
        plans = [
            DevicePlan.objects.create(
                slug=f"bench-{index}",
                name=f"Tier {index}",
                cameras_supported=4 * (index + 1),
                storage_gb=500 * (index + 1),
                device_price=price,
                yearly_price=yearly,
                description_en="A device.",
                description_es="Un dispositivo.",
            )
            for index, (price, yearly) in enumerate(
                [(35_000, 15_000), (120_000, 45_000), (360_000, 120_000), (720_000, 230_000)]
            )
        ]
        rows = []
        for department in departments:
            for site_id in range(1, arguments.per_department + 1):
                plan = rng.choice(plans)
                start = now - timedelta(days=rng.uniform(0, 36 * 30))
                roll = rng.random()
                status, ended, complimentary = "active", None, None
                if roll < 0.12:
                    status, ended = "canceled", start + (now - start) * rng.random()
                elif roll < 0.17:
                    status = "past_due"
                elif roll < 0.20:
                    status, complimentary = "trialing", now + timedelta(days=60)
                elif roll < 0.22:
                    status, start = "checkout", None
                rows.append(
                    Subscription(
                        department=department,
                        site_id=site_id,
                        participant_id=site_id,
                        site_address=f"{site_id} Main St, {department.city}, AR",
                        plan=plan,
                        stripe_subscription_id=None
                        if status == "checkout"
                        else f"sub_{department.pk}_{site_id}",
                        status=status,
                        entitled=status in ("active", "past_due", "trialing"),
                        yearly_amount=plan.yearly_price,
                        currency="usd",
                        current_period_end=now + timedelta(days=rng.uniform(1, 365)),
                        complimentary_until=complimentary,
                        started_at=start,
                        ended_at=ended,
                    )
                )
        Subscription.objects.bulk_create(rows, batch_size=5_000)
        with database_owner():
            connection.cursor().execute("ANALYZE")
        seeding = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]

        user, _created = staff_account_ensure(email="bench@canvass.example.org", password=None)
        user.is_superuser = False  # the permission, not superuser status, opens the console
        user.save(update_fields=["is_superuser"])
        vendor_billing_grant(user)
        TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)

        def page(path: str) -> Callable[[], None]:
            def get() -> None:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            return get

        revenue, floor = page("/console/billing/revenue/"), page("/console/billing/fulfilment/")
        for warm in (revenue, floor):
            timed(warm, 5)
        from billing.console import revenue_changed

        def revenue_cold() -> None:
            revenue_changed()  # as after any subscription's change: the figures are recomputed
            revenue()

        revenue_times: list[float] = []
        cold_times = timed(revenue_cold, max(arguments.runs // 5, 5))
        floor_times: list[float] = []
        for _ in range(arguments.runs):  # interleaved, so machine noise hits both alike
            revenue_times += timed(revenue, 1)
            floor_times += timed(floor, 1)
        load = os.getloadavg()
        print(
            f"{arguments.departments} departments x {arguments.per_department} subscriptions "
            f"({len(rows):,}); seeded in {seeding:.1f} s; {server}; Python "
            f"{platform_module.python_version()}; {os.cpu_count()} CPUs; load average "
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {arguments.runs} requests each"
        )
        print("| page | p50 ms | p95 ms | max ms |")
        print("|---|---:|---:|---:|")
        for name, times in (
            ("revenue", revenue_times),
            ("revenue, just after a subscription changed (figures recomputed)", cold_times),
            ("floor (empty queue)", floor_times),
        ):
            print(
                f"| {name} | {statistics.median(times):.1f} | {percentile(times, 0.95):.1f} | "
                f"{max(times):.1f} |"
            )
        print(
            f"ratio revenue / floor: p50 "
            f"{statistics.median(revenue_times) / statistics.median(floor_times):.1f}x, p95 "
            f"{percentile(revenue_times, 0.95) / percentile(floor_times, 0.95):.1f}x; target: "
            f"revenue p95 under 100 ms: "
            f"{'met' if percentile(revenue_times, 0.95) < 100 else 'NOT met'}"
        )
    finally:
        database.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
