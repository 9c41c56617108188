"""The two database roles: the application's, which owns nothing, and the owner's, which owns
every schema and alone changes their structure (migrations, the department template).

The application connects as DATABASES["default"]; the owner as DATABASES["owner"]
(DATABASE_OWNER_URL), which production web processes need not have: a new department is cloned
through a function the owner made (tenants.schema_clone), not by the application's own DDL.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, ProgrammingError, connection, connections
from django.db.utils import load_backend

OWNER_ALIAS = "owner"

# What the application may do in every schema the owner creates from now on. Sequences and
# functions keep PostgreSQL's defaults: identity columns need no grant to insert, and a copied
# schema must hold nothing the clone does not reproduce (tenants.schema_clone).
DEFAULT_PRIVILEGES = """
ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app};
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO {app};
"""


def owner_is_configured() -> bool:
    return OWNER_ALIAS in connections.settings


def application_role() -> str:
    return str(connections.settings[DEFAULT_DB_ALIAS]["USER"] or "")


@contextmanager
def database_owner() -> Iterator[None]:
    """Run the block as the owner: on a connection of its own, which stands in for the default
    one (django-tenants and migrations use that), and commits on its own. Nested blocks share it.
    """
    if not owner_is_configured():
        raise ImproperlyConfigured(
            "Changing the database structure needs the owner's login: set DATABASE_OWNER_URL "
            "(docs/operations.md) and run `manage.py platform_setup`."
        )
    settings_dict = connections.settings[OWNER_ALIAS]
    if connection.settings_dict is settings_dict:
        yield
        return
    # A new wrapper, not connections["owner"]: the test framework wraps that one in a
    # transaction (or forbids it) per test, and its alias would send the routers elsewhere.
    owner = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, DEFAULT_DB_ALIAS)
    application = connections[DEFAULT_DB_ALIAS]
    connections[DEFAULT_DB_ALIAS] = owner
    try:
        yield
    finally:
        owner.close()
        connections[DEFAULT_DB_ALIAS] = application


def database_roles_problems() -> list[str]:
    """Why the application's role could rewrite the audit trail, if it could (run as the owner):
    it is the owner itself, or a superuser."""
    application = application_role()
    if not application:
        return ["DATABASE_URL names no role"]
    with database_owner():
        if connection.settings_dict["USER"] == application:
            return ["DATABASE_URL and DATABASE_OWNER_URL log in as the same role"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [application])
            row = cursor.fetchone()
    if row and row[0]:
        return [f"the application's role {application} is a superuser"]
    return []


def database_privileges_ensure() -> None:
    """Give the application its rights on whatever the owner creates from now on (run as the
    owner, before the first migration; idempotent). The audit trail's own migrations then take
    UPDATE, DELETE and TRUNCATE away from everyone. Refuses in production, and warns otherwise,
    when the application's role could rewrite the audit trail anyway."""
    from django.conf import settings

    problems = database_roles_problems()
    if problems:
        message = (
            f"The audit trail is not protected: {'; '.join(problems)}. Give the application a "
            "role of its own that owns nothing (docs/operations.md)."
        )
        if settings.PRODUCTION:
            raise ImproperlyConfigured(message)
        warnings.warn(message, stacklevel=2)
        return
    application = application_role()
    with database_owner(), connection.cursor() as cursor:
        cursor.execute(DEFAULT_PRIVILEGES.format(app=connection.ops.quote_name(application)))


DROP_ATTEMPTS = 5


@contextmanager
def throwaway_database(prefix: str = "test_") -> Iterator[str]:
    """A database of its own (<prefix><name>) for the test suite and the benchmarks, as in
    production: the owner creates it and platform_setup migrates it, both roles' connections
    point at it meanwhile, and the owner drops it at the end."""
    import io

    from django.conf import settings
    from django.core.management import call_command

    def point_at(name: str) -> None:
        for alias in settings.DATABASES:
            settings.DATABASES[alias]["NAME"] = name
            connections.settings[alias]["NAME"] = name
            connections[alias].close()

    original = connection.settings_dict["NAME"]
    name = f"{prefix}{original}"
    quoted = connection.ops.quote_name(name)
    with database_owner(), connection.cursor() as cursor:
        # A database left by an interrupted run goes first (as Django's test runner does).
        cursor.execute(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {quoted}")
    point_at(name)
    try:
        call_command("platform_setup", verbosity=0, stdout=io.StringIO())
        yield name
    finally:
        connections.close_all()
        # Dropped from the original database: nobody can drop the database they are in.
        point_at(original)
        # Threads that served committing tests (live server, Celery worker) and migrations may
        # have left connections open; end them, each role its own, to drop the database. A
        # thread still winding down may connect again in between (the owner may not end the
        # other role's backends, so the drop is refused): ended again, a few times.
        for attempt in range(DROP_ATTEMPTS):
            for role_connection in (nullcontext, database_owner):
                with role_connection(), connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        " WHERE datname = %s AND usename = current_user",
                        [name],
                    )
            try:
                with database_owner(), connection.cursor() as cursor:
                    cursor.execute(f"DROP DATABASE {quoted} WITH (FORCE)")
                break
            except ProgrammingError:
                if attempt == DROP_ATTEMPTS - 1:
                    raise
                time.sleep(0.5)
