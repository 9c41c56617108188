"""The fault harness itself: a private copy of the test database served by gunicorn survives a
restart of its PostgreSQL server without restarting gunicorn."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.harness import CanvassProcess, PrivatePostgres, canvass_environment, get


def test_a_private_server_holds_the_cities_and_gunicorn_reconnects_after_its_restart(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        copy = PrivatePostgres.copy_of_test_database(tmp_path / "pg")
        database = copy.__enter__()
    try:
        schemas = {row[0] for row in database.query("SELECT schema_name FROM tenants_department")}
        assert {"concord", "carrollton", "littlerock"} <= schemas
        # The city's landing page is kept in each worker (tenants.page_cache) and so served
        # through an outage by the worker that kept it: this test asks the database each time.
        environment = canvass_environment(database) | {"PORTAL_LANDING_SECONDS": "0"}
        with CanvassProcess.gunicorn(environment, tmp_path / "web.log") as web:
            assert get(web.url("/"), host="concord.localhost").status == 200, web.output()
            database.stop()
            assert get(web.url("/"), host="concord.localhost").status >= 500
            database.start()
            answers = [get(web.url("/"), host="concord.localhost").status for _ in range(4)]
            assert answers[-1] == 200, (answers, web.output())
    finally:
        copy.__exit__(None, None, None)
