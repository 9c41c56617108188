"""A worker killed (issue 16, point 3): a real Celery worker, its whole process group killed by
SIGKILL in the middle of an area notice, an import's commit or a department export (and the
process provisioning a department, in the middle of making its schema), against a private copy
of the test database and a private Redis. After a restart every job ends in a defined state
(done, or failed with a message and retryable), no owner gets a notice twice, no import is half
written, and no schema or file is left behind.

The moments are read from the database and storage (copies claimed, the import's rows being
written, the archive's file appearing, the schema's tables appearing), never from a clock.
Figures (seconds from the restart to the end state) go to the JSON file WORKER_KILLED_FIGURES
names, for bench/faults_worker.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from portal.department.tasks import claim_size
from tests.faults.harness import (
    ROOT,
    CanvassProcess,
    PrivatePostgres,
    PrivateRedis,
    canvass_environment,
    wait_until,
)
from tests.faults.smtp_sink import SmtpSink

# Unacknowledged tasks come back this soon (TASK_REDELIVERY_SECONDS; 900 in production). Longer
# than any run below once restarted, so a task still running is not handed out a second time.
REDELIVERY_SECONDS = 8
# The broker looks for tasks to hand back at a worker's start and every quarter of that time
# after: the restart's end state comes within it, a quarter more and the run itself.
SETTLED = 120


@dataclass
class Servers:
    database: PrivatePostgres
    redis: PrivateRedis
    directory: Path

    def environment(self, **extra: str) -> dict[str, str]:
        return canvass_environment(
            self.database,
            self.redis,
            **{
                "TASK_REDELIVERY_SECONDS": str(REDELIVERY_SECONDS),
                "PRIVATE_ROOT": str(self.private_root),
                "MEDIA_ROOT": str(self.directory / "media"),
                "EMAIL_PROVIDER": "console",
            }
            | extra,
        )

    @property
    def private_root(self) -> Path:
        return self.directory / "private"

    def one(self, sql: str, *parameters: object) -> object:
        return self.database.query(sql, list(parameters))[0][0]


@pytest.fixture
def servers(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Servers]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        copy = PrivatePostgres.copy_of_test_database(tmp_path / "pg")
        database = copy.__enter__()
    try:
        with PrivateRedis(tmp_path / "redis") as redis:
            yield Servers(database, redis, tmp_path)
    finally:
        copy.__exit__(None, None, None)


def queue(environment: dict[str, str], *arguments: str) -> dict:
    """Run tests/faults/worker_killed_setup.py: rows written, the task queued on the broker."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.worker_killed_setup", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def killed_when(worker: CanvassProcess, condition: object, what: str) -> None:
    """SIGKILL the worker's whole process group the moment `condition()` holds."""
    wait_until(condition, timeout=120, what=what, step=0.002)
    worker.kill(signal.SIGKILL)
    assert not worker.alive()


def figure(name: str, **values: object) -> None:
    target = os.environ.get("WORKER_KILLED_FIGURES")
    if target:
        with Path(target).open("a") as figures:
            figures.write(json.dumps({"job": name, **values}) + "\n")


# --- An area notice ---------------------------------------------------------------------------

OWNERS = 40
COPIES = "concord.department_notificationrecipient"
# Copies a run claims at once (portal.department.tasks.claim_size): 10 of 40.
BATCH = claim_size(OWNERS)


# One process, and two as deployed (--concurrency 2): the notice's first run queues more
# (portal.department.tasks.RUNS_PER_NOTICE), and each process may be sending one batch.
@pytest.mark.parametrize(
    ("pool", "processes"), [(("--pool", "solo"), 1), (("--concurrency", "2"), 2)], ids=str
)
def test_a_notice_batch_killed_midway_is_finished_after_a_restart_without_a_second_email(
    servers: Servers, pool: tuple[str, ...], processes: int
) -> None:
    with SmtpSink(delay=0.05) as sink:
        environment = servers.environment(**sink.environment())
        made = queue(environment, "notice", str(OWNERS))
        notification = made["notification"]

        def claimed() -> int:
            return int(
                servers.one(
                    f"SELECT count(*) FROM {COPIES} WHERE notification_id = %s "
                    "AND claimed_at IS NOT NULL",
                    notification,
                )
            )

        def in_flight() -> int:
            return int(
                servers.one(
                    f"SELECT count(*) FROM {COPIES} WHERE notification_id = %s "
                    "AND claimed_at IS NOT NULL AND sent_at IS NULL",
                    notification,
                )
            )

        log = servers.directory / "worker.log"
        with CanvassProcess.celery_worker(environment, log, *pool) as worker:
            killed_when(worker, lambda: claimed() >= OWNERS // 3, "a third of the copies claimed")
        at_kill = claimed()
        assert at_kill < OWNERS, "the batch ended before the kill"
        unknown_at_kill = in_flight()
        assert unknown_at_kill <= processes * BATCH
        emailed_before = sum(sink.per_recipient().values())

        restarted = time.monotonic()
        log = servers.directory / "worker-restarted.log"
        with CanvassProcess.celery_worker(environment, log, *pool) as worker:
            # Every copy sent but those in flight at the kill (never claimed again).
            wait_until(
                lambda: claimed() == OWNERS and in_flight() == unknown_at_kill,
                timeout=SETTLED,
                what="the redelivered notice finished",
            )
        recovered = time.monotonic() - restarted

        per_owner = sink.per_recipient()
        rows = servers.database.query(
            f"SELECT p.id, u.email, c.sent_at IS NOT NULL FROM {COPIES} c "
            "JOIN concord.registry_participant p ON p.id = c.participant_id "
            "JOIN concord.auth_user u ON u.id = p.user_id WHERE c.notification_id = %s",
            [notification],
        )
        assert len(rows) == OWNERS
        # Nobody got the notice twice.
        assert max(per_owner.values()) == 1, per_owner.most_common(3)
        # Every copy recorded as sent was received exactly once.
        assert all(per_owner[email] == 1 for _pk, email, sent in rows if sent)
        # At most the batch in flight at the kill in each process is "delivery unknown"
        # (claimed, not recorded as sent; the incident page counts them for staff), whether or
        # not the mail server took its emails before the worker died.
        unknown = [email for _pk, email, sent in rows if not sent]
        assert len(unknown) <= processes * BATCH, unknown
        assert len(per_owner) >= OWNERS - processes * BATCH
    figure(
        "area notice" if processes == 1 else f"area notice, {processes} processes",
        owners=OWNERS,
        claimed_at_kill=at_kill,
        emailed_before_kill=emailed_before,
        seconds_to_done=round(recovered, 1),
        duplicates=sum(count - 1 for count in per_owner.values()),
        lost=len([e for _pk, e, _sent in rows if not per_owner[e] and e not in unknown]),
        in_flight_copy_reached_the_server=bool(unknown) and bool(per_owner[unknown[0]]),
        delivery_unknown=len(unknown),
    )


# --- A registry import's commit ---------------------------------------------------------------

SITES = 4000


def test_an_import_commit_killed_midway_writes_nothing_then_everything_once(
    servers: Servers,
) -> None:
    environment = servers.environment()
    made = queue(environment, "import", str(SITES))
    job = made["job"]
    assert made["sites"] == SITES

    def imported() -> int:
        return int(
            servers.one(
                "SELECT count(*) FROM concord.registry_site "
                "WHERE address LIKE '%% Import Killed Ave%%'"
            )
        )

    def writing_sites() -> bool:
        # The commit's COPY into the sites table holds this lock until its transaction ends.
        return bool(
            servers.one(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'concord' "
                "AND c.relname = 'registry_site' AND l.mode = 'RowExclusiveLock'"
            )
        )

    def status() -> str:
        return str(servers.one("SELECT status FROM concord.registry_importjob WHERE id = %s", job))

    users_before = int(servers.one("SELECT count(*) FROM concord.auth_user"))
    log = servers.directory / "worker.log"
    with CanvassProcess.celery_worker(environment, log, "--pool", "solo") as worker:
        killed_when(worker, writing_sites, "the commit writing the sites")
    # Killed inside the commit's transaction: nothing of it is left.
    wait_until(lambda: not writing_sites(), timeout=30, what="the commit rolled back")
    assert imported() == 0
    assert int(servers.one("SELECT count(*) FROM concord.auth_user")) == users_before
    assert status() == "committing"

    restarted = time.monotonic()
    with CanvassProcess.celery_worker(environment, log, "--pool", "solo"):
        wait_until(lambda: status() == "done", timeout=SETTLED, what="the import written")
    recovered = time.monotonic() - restarted
    assert imported() == SITES
    assert int(servers.one("SELECT count(*) FROM concord.auth_user")) == users_before + SITES
    assert int(servers.one("SELECT count(*) FROM concord.registry_importsite")) == 0
    figure(
        "import commit",
        sites=SITES,
        seconds_to_done=round(recovered, 1),
        rows_after_kill=0,
        duplicates=imported() - SITES,
    )


# --- A department export ----------------------------------------------------------------------


def test_an_import_check_in_a_prefork_worker_checks_its_rows_in_forked_processes(
    servers: Servers,
) -> None:
    """A Celery prefork worker's child (billiard's) may fork a pool of checking processes: the
    check job's rows are checked in two of them, and the job ends checked."""
    environment = servers.environment(IMPORT_CHECK_PROCESSES="2")
    job = queue(environment, "import-check", str(SITES))["job"]
    log = servers.directory / "worker.log"
    with CanvassProcess.celery_worker(environment, log, "--concurrency", "1"):
        wait_until(
            lambda: (
                servers.one("SELECT status FROM concord.registry_importjob WHERE id = %s", job)
                != "checking"
            ),
            timeout=SETTLED,
            what="the import checked",
        )
    assert servers.one("SELECT status FROM concord.registry_importjob WHERE id = %s", job) == (
        "checked"
    )
    assert int(servers.one("SELECT count(*) FROM concord.registry_importsite")) == SITES
    text = log.read_text(errors="replace")
    assert f"Import check: {SITES} rows checked in 2 processes." in text, text[-3000:]
    assert "no pool of" not in text


def test_an_export_killed_while_its_archive_is_written_is_built_again_and_leaves_no_part(
    servers: Servers,
) -> None:
    environment = servers.environment()
    # A clip too large to archive in an instant (random bytes do not compress).
    clip = servers.private_root / "concord" / "footage" / "999" / "clip.bin"
    clip.parent.mkdir(parents=True)
    clip.write_bytes(os.urandom(48 * 1024 * 1024))
    exports = servers.private_root / "concord" / "exports"
    made = queue(environment, "export")
    export = made["export"]

    def archives() -> list[Path]:
        return sorted(exports.iterdir()) if exports.exists() else []

    def row() -> tuple[str, str, str]:
        status, file_name, error = servers.database.query(
            "SELECT status, file_name, error FROM console_departmentexport WHERE id = %s",
            [export],
        )[0]
        return str(status), str(file_name), str(error)

    log = servers.directory / "worker.log"
    with CanvassProcess.celery_worker(environment, log, "--pool", "solo") as worker:
        killed_when(worker, lambda: bool(archives()), "the archive's file appearing in storage")
    part = {path: path.stat().st_size for path in archives()}
    assert part, "no archive file at the kill"
    assert row()[0] == "running" and row()[1] == ""  # never offered for download

    restarted = time.monotonic()
    with CanvassProcess.celery_worker(environment, log, "--pool", "solo"):
        wait_until(lambda: row()[0] != "running", timeout=SETTLED, what="the export built")
    recovered = time.monotonic() - restarted
    status, file_name, error = row()
    assert status == "ready", error
    # One archive in storage, the one recorded, whole.
    assert [path.name for path in archives()] == [Path(file_name).name]
    with zipfile.ZipFile(servers.private_root / file_name) as archive:
        assert archive.testzip() is None
        assert "files/footage/999/clip.bin" in archive.namelist()
    figure(
        "department export",
        seconds_to_done=round(recovered, 1),
        part_bytes_at_kill=sum(part.values()),
        orphan_files=len(archives()) - 1,
    )


# --- Provisioning a department ----------------------------------------------------------------

PROVISION = [
    "provision_department",
    "killed-city",
    "--name",
    "Killed City",
    "--city",
    "Killed",
    "--state",
    "NC",
    "--display-name",
    "Killed City",
    "--center",
    "35.41,-80.58",
    "--admin-email",
    "chief@killed-city.example.org",
]


def test_a_provisioning_killed_while_its_schema_is_made_leaves_no_schema_behind(
    servers: Servers,
) -> None:
    """Without the template (cloning off, or a template that cannot be copied) a new schema is
    migrated on the owner's connection and committed at once: the case a kill could orphan."""
    environment = servers.environment()
    servers.database.query("DROP SCHEMA department_template CASCADE")

    def schema_tables() -> int:
        return int(
            servers.one(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'killed_city'"
            )
        )

    def schemas() -> int:
        return int(servers.one("SELECT count(*) FROM pg_namespace WHERE nspname = 'killed_city'"))

    def departments() -> int:
        return int(
            servers.one("SELECT count(*) FROM tenants_department WHERE schema_name = 'killed_city'")
        )

    def provision(log: Path) -> CanvassProcess:
        return CanvassProcess(
            CanvassProcess._spawn([sys.executable, "manage.py", *PROVISION], environment, log),
            log,
        )

    log = servers.directory / "provision.log"
    for attempt in range(2):
        process = provision(log)
        killed_when(process, lambda: schema_tables() > 10, "the schema half migrated")
        assert (schemas(), departments()) == (1, 0), process.output()[-2000:]
        if attempt == 0:
            # The platform's sweep, run by a worker, drops what the dead provisioning left.
            swept_from = time.monotonic()
            worker_log = servers.directory / "worker.log"
            with CanvassProcess.celery_worker(environment, worker_log, "--pool", "solo"):
                from celery import Celery

                Celery(broker=servers.redis.url(1)).send_task("tenants.tasks.provisioning_sweep")
                wait_until(lambda: schemas() == 0, timeout=SETTLED, what="the schema swept")
            swept = time.monotonic() - swept_from
    # Provisioning the subdomain again (the operator's retry) clears its own leftover first.
    retried_from = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", *PROVISION],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    retried = time.monotonic() - retried_from
    assert done.returncode == 0, done.stderr[-4000:]
    assert (schemas(), departments()) == (1, 1)
    assert (
        servers.one(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace "
            "WHERE nspname = 'killed_city'"
        )
        is None
    )
    figure(
        "provisioning",
        seconds_to_swept=round(swept, 1),
        seconds_to_provisioned_again=round(retried, 1),
        orphan_schemas=schemas() - departments(),
    )
