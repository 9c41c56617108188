"""Load with faults (issue 16, point 7): a bounded load generator on loopback against Canvass
served by gunicorn, while the database is restarted once and Redis once.

The load is what a city's residents do: read the landing page, and answer an area notice from
the link in its email (open the link, press "Nothing relevant" or "I have footage": a POST with
Django's CSRF token, no JavaScript). Each answer link is used once, so every write the service
acknowledged (302 back to the link) can be checked against the database afterwards: its copy of
the notice must hold that answer (a lost write otherwise), and a write that failed must have
left nothing or an answer the link then shows as given (idempotent: answering again says
"already answered").

Used by tests/faults/test_load_with_faults.py (short) and bench/faults_load.py (longer, with a
table for docs/benchmarks.md).
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from tests.faults.harness import ROOT, PrivatePostgres, PrivateRedis, wait_until

OUTAGE_MARK = 'id="canvass-outage"'
ANSWERS = ("nothing", "has_footage")

# Run in a process of Canvass's own environment (the private database): an incident, one area
# notice per batch of owners, and a copy of each notice for each owner, as notify_area records
# them; prints each copy's id and answer link.
_SETUP = """
import json, sys
import django
django.setup()
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import tenant_context
from portal.department.models import Incident, Notification, NotificationRecipient
from portal.department.tasks import answer_token
from portal.registry.models import Participant, StaffMember
from tenants.models import Department

schema, owners, notices = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
User = get_user_model()
with tenant_context(Department.objects.get(schema_name=schema)):
    staff = StaffMember.objects.select_related("user").first().user
    now = timezone.now()
    incident = Incident.objects.create(
        kind="crime", case_number="FAULTS-LOAD", category="burglary", latitude=34.7465,
        longitude=-92.2896, starts_at=now, ends_at=now, radius_m=1000, opened_by=staff,
    )
    users = User.objects.bulk_create(
        User(username=f"faults-load-{n}@example.org", email=f"faults-load-{n}@example.org",
             password="!")
        for n in range(owners)
    )
    participants = Participant.objects.bulk_create(Participant(user=user) for user in users)
    for _ in range(notices):
        notice = Notification.objects.create(
            incident=incident, message="Please check your camera.", radius_m=1000,
            created_by=staff,
        )
        NotificationRecipient.objects.bulk_create(
            NotificationRecipient(notification=notice, participant=p, claimed_at=now, sent_at=now)
            for p in participants
        )
    copies = NotificationRecipient.objects.filter(notification__incident=incident).order_by("pk")
    resident = users[0]
    resident.set_password(sys.argv[4])
    resident.save(update_fields=["password"])
    EmailAddress.objects.create(user=resident, email=resident.email, verified=True, primary=True)
    print(json.dumps({
        "links": [[copy.pk, answer_token(copy)] for copy in copies], "resident": resident.email,
    }))
"""


RESIDENT_PASSWORD = "a-long-load-with-faults-passphrase"


@dataclass(frozen=True)
class Setup:
    """What the load uses: unanswered copies of area notices (id, answer link's token) and a
    resident's address, whose password is RESIDENT_PASSWORD."""

    links: list[tuple[int, str]]
    resident: str


def notices_for(seconds: float, clients: int, owners: int = 100) -> int:
    """How many notices (each to `owners` owners, an answer link each) the load cannot run out
    of: at most one answer per client every 20 ms, however fast the machine."""
    return max(10, int(seconds * clients * 50 / owners) + 1)


def answer_links(
    environment: Mapping[str, str], schema: str, *, owners: int = 100, notices: int = 40
) -> Setup:
    """`owners` x `notices` unanswered copies of area notices in the city `schema` of the
    private database `environment` points at, and one of those owners able to sign in (a
    password, a verified address)."""
    done = subprocess.run(
        [sys.executable, "-c", _SETUP, schema, str(owners), str(notices), RESIDENT_PASSWORD],
        cwd=ROOT,
        env=dict(environment),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode:
        raise AssertionError(f"answer links not made: {done.stderr[-3000:]}")
    made = json.loads(done.stdout.splitlines()[-1])
    return Setup([(int(pk), str(token)) for pk, token in made["links"]], str(made["resident"]))


@dataclass(frozen=True)
class Reply:
    """One HTTP exchange as the client saw it; status 0 when no answer came (refused, reset,
    timed out)."""

    status: int
    body: str
    headers: Mapping[str, str]
    cookies: Mapping[str, str]

    @property
    def outage_page(self) -> bool:
        return self.status == 503 and OUTAGE_MARK in self.body


def exchange(
    port: int,
    method: str,
    path: str,
    *,
    host: str,
    cookies: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    """One request on a new loopback connection (gunicorn's sync workers close it), redirects
    not followed."""
    headers = {"Host": host, "Connection": "close"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    body = None
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        cookies = dict(
            value.split(";", 1)[0].strip().split("=", 1)
            for value in response.headers.get_all("Set-Cookie") or []
            if "=" in value.split(";", 1)[0]
        )
        return Reply(response.status, text, dict(response.headers), cookies)
    except (OSError, http.client.HTTPException) as error:
        return Reply(0, repr(error), {}, {})
    finally:
        connection.close()


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


Kind = Literal["read", "open link", "answer", "sign-in page", "sign in"]
# Seconds between the resident's sign-ins (12 a minute), and between tries after one failed (a
# user trying again): together under allauth's limit of 30 sign-ins a minute per address.
SIGN_IN_EVERY = 5.0
SIGN_IN_RETRY = 1.0


@dataclass
class Event:
    """One request of the load: when it ended (seconds since the run started), what it was,
    the status, and whether a 503 was the outage page."""

    at: float
    kind: Kind
    status: int
    outage_page: bool
    detail: str = ""


@dataclass
class Fault:
    """One fault injected during the run: when the service went (`down_at`), when it was back
    (`up_at`: the server accepting connections again), and when Canvass answered a page and
    an answer again (`page_at`, `write_at`), all in seconds since the run started."""

    name: str
    down_at: float
    up_at: float = 0.0
    page_at: float | None = None
    write_at: float | None = None
    sign_in_at: float | None = None

    @property
    def outage_seconds(self) -> float:
        return self.up_at - self.down_at

    @property
    def recovery_seconds(self) -> float | None:
        """From the server back to the first acknowledged answer (or page, if no answer came
        after it) by any client: what the user waits beyond the outage itself."""
        first = self.write_at if self.write_at is not None else self.page_at
        return None if first is None else max(0.0, first - self.up_at)


@dataclass
class LoadRun:
    """The results: every request, each answer link's fate, and the faults."""

    seconds: float
    clients: int
    events: list[Event] = field(default_factory=list)
    acknowledged: dict[int, str] = field(default_factory=dict)  # copy id -> answer sent
    unacknowledged: dict[int, str] = field(default_factory=dict)  # POSTed, no 302 back
    faults: list[Fault] = field(default_factory=list)
    sign_ins: int = 0
    crashed: list[str] = field(default_factory=list)  # a client thread's exception, if any
    signed_in: int = 0

    def statuses(self) -> Counter[int]:
        return Counter(event.status for event in self.events)

    def unexpected(self) -> list[Event]:
        """Requests answered other than 2xx, 3xx or the outage page (503): none may be."""
        return [
            event for event in self.events if not (200 <= event.status < 400 or event.outage_page)
        ]

    def during(self, fault: Fault) -> list[Event]:
        """The requests that ended between the fault and the next one (or the end)."""
        later = [other.down_at for other in self.faults if other.down_at > fault.down_at]
        end = min(later, default=float("inf"))
        return [event for event in self.events if fault.down_at <= event.at < end]

    def served(self) -> int:
        return sum(1 for event in self.events if 200 <= event.status < 400)

    def outage_pages(self) -> int:
        return sum(1 for event in self.events if event.outage_page)


def run_load(
    port: int,
    host: str,
    setup: Setup,
    *,
    seconds: float,
    clients: int,
    faults: list[tuple[float, str, Callable[[], None], Callable[[], None], float]],
) -> LoadRun:
    """`clients` threads, each in a loop for `seconds`: the landing page, then one answer link
    (opened, then answered); the first client also signs the resident in every SIGN_IN_EVERY
    seconds, or SIGN_IN_RETRY after a failed try (allauth's form: the sign-in's locks and
    limits are in Redis). Meanwhile, for each
    fault (at, name, stop, start, length): `stop()` at `at` seconds, `start()` `length` seconds
    later. Bounded: one request at a time per client, each with a 30 s timeout, and no new
    request after `seconds`."""
    run = LoadRun(seconds, clients)
    lock = threading.Lock()
    queue = iter(enumerate(setup.links))
    started = time.monotonic()
    deadline = started + seconds

    def now() -> float:
        return time.monotonic() - started

    def record(kind: Kind, reply: Reply, *, succeeded: bool = True) -> None:
        event = Event(now(), kind, reply.status, reply.outage_page)
        if not (200 <= reply.status < 400 or reply.outage_page):
            event.detail = reply.body[:2000]
        with lock:
            run.events.append(event)
            for fault in run.faults:
                if fault.up_at and event.at >= fault.up_at and 200 <= reply.status < 400:
                    if fault.page_at is None:
                        fault.page_at = event.at
                    if kind == "answer" and succeeded and fault.write_at is None:
                        fault.write_at = event.at
                    if kind == "sign in" and succeeded and fault.sign_in_at is None:
                        fault.sign_in_at = event.at

    def sign_in() -> bool:
        form = exchange(port, "GET", "/accounts/login/", host=host)
        record("sign-in page", form)
        found = CSRF_INPUT.search(form.body)
        if form.status != 200 or found is None or "csrftoken" not in form.cookies:
            return False
        signed = exchange(
            port,
            "POST",
            "/accounts/login/",
            host=host,
            cookies={"csrftoken": form.cookies["csrftoken"]},
            form={
                "csrfmiddlewaretoken": found.group(1),
                "login": setup.resident,
                "password": RESIDENT_PASSWORD,
            },
        )
        # Signed in: redirected with a session cookie (a form shown again is not a sign-in).
        succeeded = signed.status == 302 and "sessionid" in signed.cookies
        with lock:
            run.sign_ins += 1
            run.signed_in += succeeded
        record("sign in", signed, succeeded=succeeded)
        return succeeded

    def client(number: int) -> None:
        try:
            loop(number)
        except Exception:
            with lock:
                run.crashed.append(traceback.format_exc())

    def loop(number: int) -> None:
        last_sign_in, wait = -SIGN_IN_EVERY, SIGN_IN_EVERY
        while time.monotonic() < deadline:
            if number == 0 and now() - last_sign_in >= wait:
                last_sign_in = now()
                wait = SIGN_IN_EVERY if sign_in() else SIGN_IN_RETRY
            record("read", exchange(port, "GET", "/", host=host))
            with lock:
                used, (copy, token) = next(queue, (-1, (0, "")))
            if used < 0:
                raise AssertionError("the load used every answer link: make more")
            path = f"/answer/{token}/"
            opened = exchange(port, "GET", path, host=host)
            record("open link", opened)
            found = CSRF_INPUT.search(opened.body)
            if opened.status != 200 or found is None or "csrftoken" not in opened.cookies:
                continue  # the link did not open: nothing was written, the copy stays unused
            choice = ANSWERS[used % 2]
            answered = exchange(
                port,
                "POST",
                path,
                host=host,
                cookies={"csrftoken": opened.cookies["csrftoken"]},
                form={"csrfmiddlewaretoken": found.group(1), "answer": choice},
            )
            acknowledged = answered.status == 302 and answered.headers.get("Location", "").endswith(
                path
            )
            record("answer", answered, succeeded=acknowledged)
            with lock:
                (run.acknowledged if acknowledged else run.unacknowledged)[copy] = choice

    def inject() -> None:
        for at, name, stop, start, length in faults:
            time.sleep(max(0.0, at - now()))
            fault = Fault(name, now())
            with lock:
                run.faults.append(fault)
            stop()
            time.sleep(length)
            start()
            with lock:
                fault.up_at = now()

    threads = [
        threading.Thread(target=client, args=(number,), daemon=True) for number in range(clients)
    ]
    injector = threading.Thread(target=inject, daemon=True)
    for thread in [*threads, injector]:
        thread.start()
    injector.join()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return run


def database_and_redis_faults(
    database: PrivatePostgres, redis: PrivateRedis, seconds: float, length: float
) -> list[tuple[float, str, Callable[[], None], Callable[[], None], float]]:
    """The database restarted (pg_ctl stop -m fast, then start) at a quarter of the run, and
    Redis killed and started again at the middle of what is left; each down for `length` s."""

    def redis_start() -> None:
        redis.start()

    def database_start() -> None:
        database.start()

    return [
        (seconds * 0.25, "database restart", database.stop, database_start, length),
        (seconds * 0.60, "Redis restart", redis.stop, redis_start, length),
    ]


@dataclass(frozen=True)
class WriteCheck:
    """Each answer link's fate against the rows: acknowledged answers whose copy holds no
    answer or another one (lost), and unacknowledged ones whose copy holds the answer anyway
    (committed but the reply lost: the link then shows it as given)."""

    acknowledged: int
    lost: list[int]
    unacknowledged: int
    committed_unacknowledged: list[int]
    answered_rows: int


def check_writes(database: PrivatePostgres, schema: str, run: LoadRun) -> WriteCheck:
    rows = dict(
        database.query(
            f'SELECT id, answer FROM "{schema}".department_notificationrecipient '
            "WHERE notification_id IN (SELECT id FROM "
            f'"{schema}".department_notification WHERE incident_id IN (SELECT id FROM '
            f"\"{schema}\".department_incident WHERE case_number = 'FAULTS-LOAD'))"
        )
    )
    lost = [copy for copy, choice in run.acknowledged.items() if rows.get(copy) != choice]
    committed = [copy for copy in run.unacknowledged if rows.get(copy)]
    return WriteCheck(
        acknowledged=len(run.acknowledged),
        lost=lost,
        unacknowledged=len(run.unacknowledged),
        committed_unacknowledged=committed,
        answered_rows=sum(1 for answer in rows.values() if answer),
    )


def serves_again(port: int, host: str, *, timeout: float = 60) -> float:
    """Seconds until the landing page answers 200 (fails the test past `timeout`)."""
    return wait_until(
        lambda: exchange(port, "GET", "/", host=host).status == 200,
        timeout=timeout,
        what="the landing page answers 200 again",
        step=0.2,
    )


def table(run: LoadRun, writes: WriteCheck) -> str:
    """The figures as Markdown, for docs/benchmarks.md."""
    statuses = run.statuses()
    other = sorted(
        f"{status or 'no answer'}: {count}"
        for status, count in statuses.items()
        if not (200 <= status < 400 or status == 503)
    )
    lines = [
        "| requests | served (2xx/3xx) | 503 outage page | 503 other | other errors "
        "| answers acknowledged | lost | answered without acknowledgement |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
        f"| {len(run.events)} | {run.served()} | {run.outage_pages()} | "
        f"{statuses[503] - run.outage_pages()} | {', '.join(other) or 'none'} | "
        f"{writes.acknowledged} | {len(writes.lost)} | {len(writes.committed_unacknowledged)} |",
        "",
        f"Resident sign-ins: {run.signed_in} of {run.sign_ins} signed in.",
        "",
        "| fault | at s | down for s | 503 outage page | 500 | other errors "
        "| first page after, s | first answer after, s | first sign-in after, s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for fault in run.faults:
        page = "never" if fault.page_at is None else f"{fault.page_at - fault.up_at:.2f}"
        write = "never" if fault.write_at is None else f"{fault.write_at - fault.up_at:.2f}"
        signed = "never" if fault.sign_in_at is None else f"{fault.sign_in_at - fault.up_at:.2f}"
        during = run.during(fault)
        outage = sum(1 for event in during if event.outage_page)
        failed = sum(1 for event in during if event.status == 500)
        others = sum(
            1
            for event in during
            if not (200 <= event.status < 400 or event.outage_page or event.status == 500)
        )
        lines.append(
            f"| {fault.name} | {fault.down_at:.1f} | {fault.outage_seconds:.1f} | {outage} | "
            f"{failed} | {others} | {page} | {write} | {signed} |"
        )
    return "\n".join(lines)


def log_tail(path: Path, size: int = 4000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else ""
