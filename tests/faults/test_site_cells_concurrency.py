"""The registry map's kept counts (registry migration 0016) under two committing writers at
once, on a private server: an owner's registration lapses while one of their sites is added in
another transaction. Without the owners' lock in the site trigger each would count the other's
state from before it, and the new site would stay counted for a lapsed owner."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from tests.faults.harness import PrivatePostgres, wait_until

pytestmark = pytest.mark.django_db

KEPT = "SELECT zoom, cell_row, cell_column, kind, participation, sites FROM registry_sitecell"
FRESH = """
SELECT z.zoom, floor(s.latitude / (90::float8 / power(2::float8, z.zoom)))::integer,
       floor(s.longitude / (90::float8 / power(2::float8, z.zoom)))::integer,
       s.kind, s.participation, count(*)::integer
FROM registry_site s JOIN registry_participant p ON p.id = s.participant_id
CROSS JOIN generate_series(0, 15) AS z(zoom)
WHERE NOT s.paused AND p.status = 'active'
GROUP BY 1, 2, 3, 4, 5
"""
VALUES = {
    "boolean": "false",
    "integer": "1",
    "smallint": "1",
    "bigint": "1",
    "double precision": "35.4",
    "numeric": "0",
    "timestamp with time zone": "now()",
    "date": "now()",
    "jsonb": "'{}'",
    "ARRAY": "'{}'",
}


def insert(cursor: Any, table: str, **given: object) -> int:
    """A row with the given columns and a plain value in every other required one."""
    cursor.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
        "'concord' AND table_name = %s AND is_nullable = 'NO' AND column_default IS NULL "
        "AND is_identity = 'NO'",
        [table],
    )
    columns = {name: VALUES.get(kind, "'x'") for name, kind in cursor.fetchall()}
    names = [*given, *(name for name in columns if name not in given)]
    values = ["%s"] * len(given) + [columns[name] for name in names[len(given) :]]
    cursor.execute(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)}) RETURNING id",
        list(given.values()),
    )
    return int(cursor.fetchone()[0])


def cells(cursor: Any, sql: str) -> set[tuple[object, ...]]:
    cursor.execute(sql)
    return {row for row in cursor.fetchall() if row[-1] != 0}


def test_a_lapse_and_a_new_site_at_once_leave_the_counts_exact(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest, tmp_path: Path
) -> None:
    import psycopg

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        copy = PrivatePostgres.copy_of_test_database(tmp_path / "pg")
        database = copy.__enter__()
    try:
        setup = psycopg.connect(database.url(), autocommit=True)
        lapse = psycopg.connect(database.url())
        register = psycopg.connect(database.url())
        for connection in (setup, lapse, register):
            connection.execute("SET search_path = concord, public")
        with setup.cursor() as cursor:
            user = insert(cursor, "auth_user", username="owner@example.org")
            owner = insert(cursor, "registry_participant", user_id=user, status="active")
            insert(cursor, "registry_site", participant_id=owner, kind="home", longitude=-80.58)
            assert cells(cursor, KEPT) == cells(cursor, FRESH) != set()

        lapse.execute("UPDATE registry_participant SET status = 'lapsed' WHERE id = %s", [owner])
        failures: list[BaseException] = []

        def add_site() -> None:
            try:
                with register.cursor() as cursor:
                    insert(
                        cursor,
                        "registry_site",
                        participant_id=owner,
                        kind="business",
                        longitude=-80.5,
                    )
                register.commit()
            except BaseException as error:  # reported below
                failures.append(error)

        adding = threading.Thread(target=add_site)
        adding.start()
        # The new site's trigger waits for the owner's row, which the lapse holds.
        wait_until(
            lambda: (
                failures
                or setup.execute(  # the same role: it may read the other sessions' statements
                    "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE 'INSERT INTO registry_site%'"
                ).fetchall()
            ),
            timeout=30,
            what="the new site waiting for the owner's lapse",
        )
        assert not failures, failures
        lapse.commit()
        adding.join(timeout=30)
        assert not adding.is_alive() and not failures, failures
        with setup.cursor() as cursor:
            assert cells(cursor, KEPT) == cells(cursor, FRESH) == set()
    finally:
        copy.__exit__(None, None, None)
