"""How long "approve and provision" takes, from vendor staff's click to a live portal and the
first administrator's invitation sent.

In a throwaway database on the same server, N times: an approved program request; then, timed,
the provisioning form posted through Django's test client as signed-in vendor staff (the form,
onboarding.provisioning's one transaction: the cloned schema, domain, branding, program, first
administrator, the draft license at an in-memory Stripe, the request made live, the audit
entries and, once it commits, the invitation and welcome emails), until the new department's
host answers 200 on its home page and the invitation is in the outbox (locmem backend). Between
runs the department is deleted the way vendor staff delete one (console.lifecycle).
`--stripe-latency` adds seconds to each Stripe answer (the draft makes three calls).

    .venv/bin/python bench/onboarding.py --runs 10
"""

from __future__ import annotations

import argparse
import atexit
import os
import platform as platform_module
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform"), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

from benchlib import percentile  # noqa: E402

TARGET_SECONDS = 5.0
VENDOR_EMAIL = "bench-vendor@canvass.example.org"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--stripe-latency", type=float, default=0.0, help="seconds per call")
    arguments = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        from canvass.embedded_db import embedded_database_urls

        parent = Path(tempfile.mkdtemp(prefix="canvass-bench-"))
        atexit.register(shutil.rmtree, parent, ignore_errors=True)
        os.environ["DATABASE_URL"], os.environ["DATABASE_OWNER_URL"] = embedded_database_urls(
            parent / "pg", throwaway=True
        )

    import django

    django.setup()
    from allauth.mfa.totp.internal.auth import TOTP
    from django.core import mail
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone
    from onboarding.models import ProgramRequest
    from onboarding.provisioning import provision_initial

    from billing.fake_stripe import FakeStripe
    from billing.gateway import transport_injected
    from console.lifecycle import department_delete
    from tenants.database import throwaway_database
    from tenants.models import Department
    from tenants.services import platform_site_ensure, staff_account_ensure, template_schema_refresh

    override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend").enable()
    mail.outbox = []
    fake = FakeStripe()
    fake.latency = arguments.stripe_latency
    database = throwaway_database()
    database.__enter__()
    totals: list[float] = []
    services: list[float] = []
    portals: list[float] = []
    try:
        platform_site_ensure()
        template_schema_refresh()
        vendor, _created = staff_account_ensure(email=VENDOR_EMAIL, password="a-bench-passphrase")
        TOTP.activate(vendor, "JBSWY3DPEHPK3PXP")
        console = Client(HTTP_HOST="localhost")
        console.force_login(vendor)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        with transport_injected(fake):
            for number in range(1, arguments.runs + 1):
                subdomain = f"onboard{number}"
                request = ProgramRequest.objects.create(
                    agency_name=f"Onboard {number} Police Department",
                    city="Little Rock",
                    state="AR",
                    time_zone="America/Chicago",
                    contact_name="Pat Morales",
                    contact_title="Chief of Police",
                    contact_email=f"chief@{subdomain}.example.org",
                    contact_phone="+1 501 555 0100",
                    expected_cameras=3_000,
                    subdomain=subdomain,
                    purchasing=ProgramRequest.Purchasing.PURCHASE_ORDER,
                    status=ProgramRequest.Status.APPROVED,
                    email_confirmed_at=timezone.now(),
                )
                data = {
                    name: value if isinstance(value, list) else str(value)
                    for name, value in provision_initial(request).items()
                } | {"primary_color": "#1d4ed8", "accent_color": "#f59e0b"}
                mail.outbox = []
                portal = Client(HTTP_HOST=f"{subdomain}.localhost")
                started = time.perf_counter()
                response = console.post(f"/console/requests/{request.pk}/provision/", data)
                provisioned = time.perf_counter()
                home = portal.get("/")
                finished = time.perf_counter()
                assert response.status_code == 302, response.content.decode()[:2000]
                assert home.status_code == 200, home.status_code
                invited = [m for m in mail.outbox if m.to == [f"chief@{subdomain}.example.org"]]
                assert any("invited" in message.subject for message in invited), invited
                totals.append(finished - started)
                services.append(provisioned - started)
                portals.append(finished - provisioned)
                department = Department.objects.get(schema_name=subdomain)
                department_delete(actor=vendor, department=department, confirmation=subdomain)
    finally:
        database.__exit__(None, None, None)

    print(f"machine: {platform_module.machine()}, {os.cpu_count()} cores, {server}")
    print(f"load average: {Path('/proc/loadavg').read_text().strip()}")
    print(f"runs: {arguments.runs}; Stripe latency per call: {arguments.stripe_latency:.2f} s")
    print(f"{'measured':<36}{'median s':>9}{'p95 s':>8}{'max s':>8}")
    for label, times in (
        ("approve and provision (POST)", services),
        ("first page of the new portal", portals),
        ("click to live portal + invitation", totals),
    ):
        print(
            f"{label:<36}{statistics.median(times):>9.3f}"
            f"{percentile(times, 0.95):>8.3f}{max(times):>8.3f}"
        )
    met = percentile(totals, 0.95) < TARGET_SECONDS
    print(f"target: under {TARGET_SECONDS:.0f} s at p95: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
