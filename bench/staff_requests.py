"""What a signed-in staff request costs this process before and around its view: statements sent
and CPU time per request of cheap console pages, against the landing page, in process (Django's
test Client, no HTTP), so that the machine's load moves the figures little.

In a throwaway database (`bench_staff_` beside the project's), one department with its
administrator signed in (an authenticator app set up), DEBUG off, persistent connections. For
each path: the statements of one request (after two to warm up), then the CPU time of a request
as the best of five rounds of 40.

    .venv/bin/python bench/staff_requests.py
    .venv/bin/python bench/staff_requests.py --profile bench/profiles   # pages-staff-license.prof
    .venv/bin/python bench/staff_requests.py --statements               # each statement's SQL
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
from benchlib import bench_department  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
os.environ["DEBUG"] = "false"
os.environ["DB_CONN_MAX_AGE"] = "600"

HOST = "bench.localhost"
PATHS = ("/department/license/", "/department/incidents/", "/department/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", metavar="DIR")
    parser.add_argument("--statements", action="store_true", help="print each statement")
    arguments = parser.parse_args()

    import django

    django.setup()
    from allauth.mfa.totp.internal.auth import TOTP
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection, connections
    from django.test import Client
    from django_tenants.utils import tenant_context

    from tenants.database import throwaway_database
    from tenants.services import platform_site_ensure

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    load_before = os.getloadavg()
    with throwaway_database(prefix="bench_staff_"):
        platform_site_ensure()
        department = bench_department(radius_m=22_000)
        with tenant_context(department):
            staff_user = get_user_model().objects.get(email="chief@bench.example.org")
            TOTP.activate(staff_user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
            staff = Client(HTTP_HOST=HOST)
            staff.force_login(staff_user)
        connections.close_all()
        rows = []
        for label, client, path in [("landing page (anonymous)", Client(HTTP_HOST=HOST), "/")] + [
            (path, staff, path) for path in PATHS
        ]:
            for _ in range(2):
                assert client.get(path).status_code == 200, path
            sent: list[str] = []

            def count(execute, sql, params, many, context, sent=sent):  # type: ignore[no-untyped-def]
                sent.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                client.get(path)
            rounds = []
            for _ in range(5):
                started = time.process_time()
                for _ in range(40):
                    client.get(path)
                rounds.append((time.process_time() - started) / 40 * 1000)
            rows.append(f"| {label} | {len(sent)} | {min(rounds):.2f} |")
            if arguments.statements:
                for sql in sent:
                    print(f"    {label}: {sql[:160]}")
        if arguments.profile:
            import cProfile

            folder = Path(arguments.profile)
            folder.mkdir(parents=True, exist_ok=True)
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            for _ in range(100):
                staff.get(PATHS[0])
            profile.disable()
            profile.dump_stats(str(folder / "pages-staff-license.prof"))
    load = os.getloadavg()
    print(
        f"load average (1, 5, 15 min) {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f} at the start, {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
    )
    print("| path | statements | CPU ms per request (best of 5 x 40) |")
    print("|---|---:|---:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
