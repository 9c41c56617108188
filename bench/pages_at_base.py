"""Pages per second of issue 14's base (the code the issue measured), for bench/against_base.py.

Run inside a worktree of the base, beside a copy of main's bench/pages.py (its gunicorn, its
clients) and bench/benchlib.py: in a throwaway database, one department of 30,000 sites seeded by
the base's own bench/canvass.py, an administrator signed in and an incident whose canvass searches
1 km; then gunicorn with the base's infra/gunicorn.conf.py, six clients, during SECONDS_EACH
seconds each (6 by default): a static file, the landing page, the canvass page. Once with the
base's deployment default (a database connection per request, DB_CONN_MAX_AGE unset) and once
with persistent connections. Prints one table row per path and mode.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform"), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pages  # noqa: E402  (main's bench/pages.py, copied beside this file)


def base_bench_module():
    """The base's own bench/canvass.py (its seeding), loaded under another name: `canvass` is
    the project's settings package."""
    spec = importlib.util.spec_from_file_location(
        "base_canvass_bench", ROOT / "bench" / "canvass.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    seconds = float(os.environ.get("SECONDS_EACH", "6"))
    port = int(os.environ.get("PORT", "8990"))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection, connections
    from django.test.utils import setup_test_environment
    from django_tenants.utils import tenant_context

    from portal.department.models import Incident
    from portal.registry.models import Camera, Participant, Site
    from tenants.database import database_owner, throwaway_database
    from tenants.services import department_provision, platform_site_ensure

    setup_test_environment(debug=False)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    database = throwaway_database()  # the base's: no prefix argument yet
    name = database.__enter__()
    try:
        platform_site_ensure()
        department = department_provision(
            subdomain="bench",
            name="Bench Police Department",
            city="Bench",
            state="AR",
            time_zone="America/Chicago",
            display_name="Bench Registry",
            center_latitude=pages.CENTRE[0],
            center_longitude=pages.CENTRE[1],
            service_radius_m=pages.RADIUS_M,
            administrator_email="chief@bench.example.org",
            administrator_password="a-benchmark-passphrase",
        ).department
        with tenant_context(department):
            base_bench_module().seed(
                random.Random(1),
                30_000,
                get_user_model(),
                make_password(None),
                Participant,
                Site,
                Camera,
            )
        with database_owner(), tenant_context(department):
            connection.cursor().execute("ANALYZE")  # only the tables' owner may
        with tenant_context(department):
            _client, cookie, incident = pages.signed_in_canvass(Incident)
            canvass_path = f"/department/incidents/{incident.pk}/"
        connections.close_all()
        paths = [
            ("static file (floor)", "/static/portal/portal.css", ""),
            ("landing page", "/", ""),
            ("canvass page, 1 km", canvass_path, cookie),
        ]
        for conn_max_age in ("0", "600"):
            with pages.gunicorn(name, port, conn_max_age):
                rates: dict[str, float] = {}
                for label, path, cookies in paths:
                    request = pages.get_request(path, cookies)
                    pages.hammer(port, request, 1.0)  # warm every worker up
                    done, errors = pages.hammer(port, request, seconds)
                    rates[label] = done / seconds
                    print(
                        f"| {label} | base, DB_CONN_MAX_AGE={conn_max_age} | "
                        f"{rates[label]:.0f} | {rates[label] / rates['static file (floor)']:.3f} "
                        f"| {errors} |",
                        flush=True,
                    )
            time.sleep(1)
    finally:
        database.__exit__(None, None, None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
