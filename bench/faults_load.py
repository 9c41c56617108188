"""Load with faults (issue 16): requests served, errors returned, time to recover and lost
writes while the database is restarted once and Redis once under a bounded load.

In a throwaway database (`bench_faults_load_` beside the project's) one department is
provisioned as the vendor would (bench.localhost), then copied into a PostgreSQL server of the
run's own (tests/faults/harness.py: PrivatePostgres) beside a Redis server of its own
(PrivateRedis, the cache and the broker); gunicorn with infra/gunicorn.conf.py (two sync
workers, DEBUG off) serves them on loopback. The load (tests/faults/loadgen.py) is what
residents do: --clients threads (4), one request at a time each on a new connection, for
--seconds (120): the city's landing page, then an area notice's answer link opened and answered
("Nothing relevant" or "I have footage", a form POST with its CSRF token), each link once.
At a quarter of the run the database is stopped (pg_ctl stop -m fast) and started again
--outage seconds (5) later; at 60 % Redis is killed (SIGKILL) and started again as long after.
Neither gunicorn nor anything else of Canvass is restarted.

Afterwards every answer the service acknowledged (302 back to the link) is looked up in the
database: lost writes are acknowledged answers not stored as sent. Answers stored whose reply
did not come back are counted apart (the link then shows the answer as given; a second answer
is refused, so they are never duplicated).

    .venv/bin/python bench/faults_load.py
    .venv/bin/python bench/faults_load.py --seconds 40 --outage 3

Needs redis-server on the PATH (infra/faults-deps.sh installs it).
"""

from __future__ import annotations

import argparse
import os
import platform as platform_module
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
# bench/ is on the path of a script run from it.
from benchlib import bench_department  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

HOST = "bench.localhost"
SCHEMA = "bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="of load, faults included")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--outage", type=float, default=5.0, help="seconds each server is down")
    arguments = parser.parse_args()
    if arguments.seconds > 300:
        parser.error("at most five minutes of load")
    if arguments.outage * 2 > arguments.seconds * 0.5:
        parser.error("the outages must fit in the run: a shorter --outage or a longer --seconds")

    import django

    django.setup()
    from django.db import connection, connections

    from tenants.database import throwaway_database
    from tenants.services import platform_site_ensure
    from tests.faults.harness import (
        CanvassProcess,
        PrivatePostgres,
        PrivateRedis,
        canvass_environment,
    )
    from tests.faults.loadgen import (
        answer_links,
        check_writes,
        database_and_redis_faults,
        notices_for,
        run_load,
        serves_again,
        table,
    )

    load_before = Path("/proc/loadavg").read_text().split()[:3]
    database = throwaway_database(prefix="bench_faults_load_")
    database.__enter__()
    work = Path(tempfile.mkdtemp(prefix="canvass-faults-load-"))
    try:
        platform_site_ensure()
        bench_department(radius_m=22_000)
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        connections.close_all()
        notices = notices_for(arguments.seconds, arguments.clients)
        with (
            PrivatePostgres.copy_of_test_database(work / "pg") as private,
            PrivateRedis(work / "redis") as redis,
        ):
            environment = canvass_environment(private, redis)
            setup = answer_links(environment, SCHEMA, owners=100, notices=notices)
            with CanvassProcess.gunicorn(environment, work / "web.log") as web:
                assert web.port is not None
                serves_again(web.port, HOST)
                run = run_load(
                    web.port,
                    HOST,
                    setup,
                    seconds=arguments.seconds,
                    clients=arguments.clients,
                    faults=database_and_redis_faults(
                        private, redis, arguments.seconds, arguments.outage
                    ),
                )
                serves_again(web.port, HOST)
            writes = check_writes(private, SCHEMA, run)
    finally:
        connections.close_all()
        database.__exit__(None, None, None)

    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}; {server}; load average (1, 5, 15 min) "
        f"{' '.join(load_before)} at the start, {' '.join(load_after)} at the end"
    )
    print(
        f"gunicorn -c infra/gunicorn.conf.py, 2 sync workers; {arguments.clients} clients, "
        f"{arguments.seconds:.0f} s of load; each server down {arguments.outage:.0f} s; "
        f"gunicorn's log: {work / 'web.log'}"
    )
    print(table(run, writes))
    if writes.lost:
        print(f"LOST acknowledged answers (copy ids): {writes.lost}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
