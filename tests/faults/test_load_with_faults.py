"""Load with faults (issue 16, point 7): residents reading the portal and answering area
notices through gunicorn (four clients, 30 s) while the database is restarted once and Redis
once. Nothing but 2xx, 3xx and the plain outage page (503) comes back, Canvass answers again
after each fault without a restart of its own, and every answer it acknowledged is in the
database (lost writes: 0)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest

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

HOST = "concord.localhost"
SCHEMA = "concord"
SECONDS = float(os.environ.get("FAULTS_LOAD_SECONDS", "30"))
CLIENTS = 4
OUTAGE_SECONDS = 3.0


def test_under_load_a_database_restart_and_a_redis_restart_lose_no_acknowledged_answer(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # The database's files outside pytest's temporary folders: a pytest session starting
    # meanwhile (another worktree's) makes /tmp/pytest-of-<user> private again (0700), which
    # locks out the server's own system user when the suite runs as root.
    private = Path(tempfile.mkdtemp(prefix="canvass-faults-load-"))
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        copy = PrivatePostgres.copy_of_test_database(private / "pg")
        database = copy.__enter__()
    try:
        with PrivateRedis(tmp_path / "redis") as redis:
            environment = canvass_environment(database, redis)
            setup = answer_links(
                environment, SCHEMA, owners=100, notices=notices_for(SECONDS, CLIENTS)
            )
            log = tmp_path / "web.log"
            with CanvassProcess.gunicorn(environment, log) as web:
                assert web.port is not None
                serves_again(web.port, HOST)
                run = run_load(
                    web.port,
                    HOST,
                    setup,
                    seconds=SECONDS,
                    clients=CLIENTS,
                    faults=database_and_redis_faults(database, redis, SECONDS, OUTAGE_SECONDS),
                )
                # After the run, with nothing restarted on Canvass's side, it serves again.
                serves_again(web.port, HOST)
                assert web.alive(), web.output()[-4000:]
            writes = check_writes(database, SCHEMA, run)
        figures = table(run, writes)
        print(figures)

        assert not run.crashed, run.crashed[0]
        unexpected = run.unexpected()
        assert not unexpected, (
            f"{len(unexpected)} answers other than 2xx, 3xx or the outage page (503), by "
            f"request and status: {Counter((e.kind, e.status) for e in unexpected)}; the first "
            f"at {unexpected[0].at:.1f} s:\n{unexpected[0].detail[:1000]}\n{figures}"
        )
        assert [fault.name for fault in run.faults] == ["database restart", "Redis restart"]
        for fault in run.faults:
            assert fault.page_at is not None, f"no page served after the {fault.name}\n{figures}"
            assert fault.write_at is not None, (
                f"no answer acknowledged after the {fault.name}\n{figures}"
            )
            assert fault.sign_in_at is not None, (
                f"the resident could not sign in after the {fault.name}\n{figures}"
            )
        # Load with writes: answers were acknowledged before, between and after the faults.
        assert writes.acknowledged > 0, figures
        assert writes.lost == [], f"lost acknowledged answers: {writes.lost}\n{figures}"
        # An answer committed whose reply was lost is a given answer (the link says so and
        # takes no second one): never a second row, and the rows are exactly the answers.
        assert writes.answered_rows == writes.acknowledged + len(writes.committed_unacknowledged), (
            figures
        )
    finally:
        copy.__exit__(None, None, None)
        shutil.rmtree(private, ignore_errors=True)
