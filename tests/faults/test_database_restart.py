"""Issue 16, point 1: the database restarted while requests and jobs run, for real (a private
PostgreSQL server stopped and started under gunicorn and a Celery worker that are never
restarted).

- Requests during the outage get the outage page: 503, Retry-After, id="canvass-outage", in
  English or Spanish (Accept-Language), no traceback; JSON clients get JSON.
- Nothing committed before the stop is lost.
- gunicorn and the worker serve and run again once the server is back, by themselves.
- An area notice interrupted mid-way by the stop is retried and ends with every owner emailed
  exactly once (counted at a mail server of the test's own) and every copy recorded as sent.
"""

from __future__ import annotations

import json
import os
import re
import socketserver
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.faults.harness import (
    CanvassProcess,
    PrivatePostgres,
    PrivateRedis,
    canvass_environment,
    get,
    wait_until,
)

CITY = "concord.localhost"
ENGLISH = "We can't reach our records right now, try again in a moment."
SPANISH = "En este momento no podemos acceder a nuestros registros"
OWNERS = [f"restart{number}@faults.example.org" for number in range(10)]


class SlowMailServer(socketserver.ThreadingTCPServer):
    """Just enough SMTP for Django's backend, on loopback: each message is taken after `delay`
    seconds (a slow mail server keeps the job running long enough to stop the database in its
    middle), and every recipient it took is counted."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: list[str] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), SmtpSession)
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def counted(self) -> Counter[str]:
        with self.lock:
            return Counter(self.received)

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class SmtpSession(socketserver.StreamRequestHandler):
    server: SlowMailServer

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())
        self.wfile.flush()

    def handle(self) -> None:
        self.reply("220 faults.example.org ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode(errors="replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-faults.example.org")
                self.reply("250 8BITMIME")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>").split(">")[0])
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End with <CRLF>.<CRLF>")
                while self.rfile.readline() not in (b".\r\n", b""):
                    pass
                time.sleep(self.server.delay)
                with self.server.lock:
                    self.server.received.extend(recipients)
                recipients = []
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:  # HELO, MAIL, RSET, NOOP
                recipients = [] if verb in {"MAIL", "RSET"} else recipients
                self.reply("250 OK")


SETUP = """
import django
django.setup()
from django_tenants.utils import tenant_context
from portal.department.models import Notification
from portal.department.tasks import notify_area
from tenants.models import Department
from tests.department.test_notify_delivery import register_owners

department = Department.objects.select_related("program").get(schema_name="concord")
with tenant_context(department):
    incident = register_owners(department, {owners!r}, case="DB-RESTART-1")
    notification = Notification.objects.create(
        incident=incident, message="Check.", radius_m=100, created_by=incident.opened_by
    )
    notify_area.delay(notification.pk)
    print(notification.pk)
"""


def figures_write(figures: dict[str, object]) -> None:
    """One line of figures for bench/faults_database.py, when it asks (CANVASS_FAULT_FIGURES)."""
    path = os.environ.get("CANVASS_FAULT_FIGURES")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps(figures) + "\n")


class Poller(threading.Thread):
    """GET / on the city's portal again and again (one at a time, bounded) until stopped: the
    status of every answer, for the figures."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.statuses: Counter[int] = Counter()
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                self.statuses[get(self.url, host=CITY, timeout=60).status] += 1
            except OSError:
                self.statuses[0] += 1  # no answer at all
            time.sleep(0.05)

    def stop(self) -> Counter[int]:
        self.running = False
        self.join(timeout=90)
        return self.statuses


def status(url: str) -> int:
    """The status of GET `url` on the city's host; 0 for no answer (a busy machine)."""
    try:
        return get(url, host=CITY, timeout=60).status
    except OSError:
        return 0


def python(environment: dict[str, str], code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def database(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, tmp_path: Path
) -> object:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        copy = PrivatePostgres.copy_of_test_database(tmp_path / "pg")
        server = copy.__enter__()
    try:
        yield server
    finally:
        copy.__exit__(None, None, None)


def test_requests_during_a_restart_get_the_outage_page_and_nothing_committed_is_lost(
    database: PrivatePostgres, tmp_path: Path
) -> None:
    # The landing page kept for anonymous visitors (tenants.page_cache) would be served from
    # each worker's memory through the outage; this test is about pages that read the database.
    environment = canvass_environment(database) | {"PORTAL_LANDING_SECONDS": "0"}
    with CanvassProcess.gunicorn(environment, tmp_path / "web.log") as web:
        # The first request warms a worker up (slow on a busy machine).
        assert get(web.url("/"), host=CITY, timeout=120).status == 200, web.output()
        before = database.query("SELECT count(*) FROM concord.registry_site")[0][0]
        database.stop()
        poller = Poller(web.url("/"))
        poller.start()

        english = get(web.url("/"), host=CITY, timeout=60)
        # The landing page reads the registry; a page that needs nothing but the city (which
        # each worker keeps for a few seconds) may still be served during the outage.
        spanish = get(web.url("/"), host=CITY, headers={"Accept-Language": "es"}, timeout=60)
        platform = get(web.url("/"), host="localhost", timeout=60)
        device = get(
            web.url("/api/device/v1/heartbeat"),
            host=CITY,
            data=b"{}",
            # Well formed (a malformed one is refused before anything is read).
            headers={
                "Content-Type": "application/json",
                "Authorization": "Bearer cvd_abcdefghijklmnop_" + "s" * 43,
            },
            timeout=60,
        )
        for answer, text in ((english, ENGLISH), (spanish, SPANISH), (platform, ENGLISH)):
            assert answer.status == 503, (answer.status, answer.body[:500])
            assert answer.headers["Retry-After"] == "30"
            assert 'id="canvass-outage"' in answer.body
            assert text in answer.body
            assert "Traceback" not in answer.body and "OperationalError" not in answer.body
        assert device.status == 503 and device.headers["Content-Type"] == "application/json"
        assert "reach our records" in device.body
        time.sleep(3)  # an outage of a few seconds, for the poller's figures

        database.start()
        # gunicorn was not restarted: its workers reconnect by themselves.
        back = wait_until(
            lambda: status(web.url("/")) == 200,
            timeout=120,
            what="web back",
            step=0.02,
        )
        statuses = poller.stop()
        assert web.alive()
        assert get(web.url("/register/"), host=CITY, timeout=60).status in {200, 302}
        after = database.query("SELECT count(*) FROM concord.registry_site")[0][0]
        assert after == before
        log = web.output()
        assert "Database unavailable: GET / answered 503" in log
        assert "Traceback" not in log
        assert set(statuses) <= {200, 503}, statuses  # during the outage: only the plain page
        figures_write(
            {
                "test": "web",
                "seconds_from_database_back_to_200": back,
                "answers_503": statuses[503],
                "answers_other": sum(n for code, n in statuses.items() if code not in {200, 503}),
                "rows_lost": before - after,
            }
        )


# One process, and two as deployed (--concurrency 2), each with a run of the notice
# (portal.department.tasks.RUNS_PER_NOTICE) cut off and retried with what it knew.
@pytest.mark.parametrize("pool", [("--pool", "solo"), ("--concurrency", "2")], ids=str)
def test_a_notice_interrupted_by_a_restart_is_retried_and_emails_each_owner_once(
    database: PrivatePostgres, tmp_path: Path, pool: tuple[str, ...]
) -> None:
    mail = SlowMailServer(delay=0.5)
    try:
        with PrivateRedis(tmp_path / "redis") as redis:
            queued = canvass_environment(database, redis, EMAIL_PROVIDER="console")
            worker_environment = canvass_environment(
                database,
                redis,
                EMAIL_PROVIDER="smtp",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=str(mail.port),
            )
            with CanvassProcess.celery_worker(
                worker_environment, tmp_path / "worker.log", *pool
            ) as worker:
                notification = int(python(queued, SETUP.format(owners=OWNERS)).split()[-1])
                wait_until(
                    lambda: len(mail.counted()) >= 3, timeout=60, what="the notice half sent"
                )
                database.stop()
                time.sleep(3)  # the job meets the stopped server and is retried meanwhile
                database.start()
                started = time.monotonic()

                def copies() -> list[tuple[object, ...]]:
                    return database.query(
                        "SELECT claimed_at IS NOT NULL, sent_at IS NOT NULL "
                        "FROM concord.department_notificationrecipient "
                        "WHERE notification_id = %s",
                        [notification],
                    )

                wait_until(
                    lambda: all(sent for _claimed, sent in copies()),
                    timeout=120,
                    what="every copy recorded as sent",
                )
                all_sent = time.monotonic() - started
                rows = copies()
                received = mail.counted()
                assert worker.alive(), worker.output()
                output = worker.output()
                assert "the database stopped answering" in output, output
                assert set(OWNERS) <= set(received), (received, output)
                assert max(received.values()) == 1, received  # nobody emailed twice
                assert sum(received.values()) == len(rows)  # every copy emailed once
                registered = database.query(
                    "SELECT count(*) FROM concord.registry_site WHERE address LIKE '%% Delivery St'"
                )[0][0]
                assert registered == len(OWNERS)  # written before the stop, still there
                runs = re.findall(r"notify_area\[[^\]]+\] (?:retry|succeeded|raised)", output)
                figures_write(
                    {
                        "test": "job" if pool[0] == "--pool" else "job, 2 processes",
                        "owners": len(rows),
                        "emails": sum(received.values()),
                        "duplicates": sum(n - 1 for n in received.values()),
                        "lost": len(rows) - len(received),
                        "seconds_from_database_back_to_all_sent": all_sent,
                        "notify_area_runs": len(runs),
                    }
                )
    finally:
        mail.close()
