"""PostgreSQL as django-prometheus counts it (which django-tenants' backend wraps, through
ORIGINAL_BACKEND), with times read by psycopg's C loader.

Django 5.2 reads every `timestamp with time zone` through its own loader, a Python subclass of
psycopg's pure-Python one (django.db.backends.postgresql.psycopg_any.BaseTzLoader), so that
each value carries Django's zone: about 4.5 µs a value on this project's machine, where
psycopg's C loader (the one it registers by default) takes a tenth of that. A registry site has
four such columns: 66 full sites (a 1 km search) took 2.2 ms to read, 1.1 ms with the C loader
(bench/timestamps.py). When Django's zone is UTC, as this project's is (USE_TZ, TIME_ZONE
"UTC"), Django sets the connection's zone to UTC on connecting, and the C loader then gives the
same values with the same `tzinfo` (datetime.timezone.utc): it is registered in Django's place.
Any other setup keeps Django's loader.

It also runs the queries kept compiled (tenants.compiled) as prepared statements: their SQL is
the same at every call, so PostgreSQL parses it once per connection and keeps its plan (a canvass
page's kept reads spent about a third of their server time being parsed and planned again).
Django turns psycopg's prepared statements off for every query (a pooler in transaction mode
loses them); this backend lets psycopg prepare only what `prepared_cursor()` runs, and only when
DATABASE_PREPARED_STATEMENTS is on (docs/operations.md: a pooler in session mode keeps them)."""

from __future__ import annotations

import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.backends.postgresql.base import (  # type: ignore[attr-defined]
    ServerBindingCursor,
    ServerSideCursor,
)
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from django.db.backends.utils import CursorWrapper
from django.utils.asyncio import async_unsafe
from django.utils.functional import cached_property
from django_prometheus.db.backends.postgresql import base
from django_prometheus.db.common import ExportingCursorWrapper
from psycopg import adapters as psycopg_adapters
from psycopg.adapt import AdaptersMap
from psycopg.postgres import types as postgres_types
from psycopg.pq import Format

# ServerBindingCursor, ServerSideCursor: Django defines them when psycopg 3 is installed;
# django-stubs does not know them.
TIMESTAMPTZ = postgres_types["timestamptz"].oid
# psycopg's own loader of the text format (its C one when psycopg's C implementation is
# installed, as psycopg[binary] is here), before Django's replaces it.
_loader = psycopg_adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
assert _loader is not None, "psycopg registers a timestamptz loader by default"
PSYCOPG_TIMESTAMPTZ_LOADER = _loader


@lru_cache
def adapters_with_psycopg_times(django_adapters: AdaptersMap) -> AdaptersMap:
    """Django's adapters (one map per zone, kept by Django), timestamptz read by psycopg."""
    adapters = AdaptersMap(django_adapters)
    adapters.register_loader(TIMESTAMPTZ, PSYCOPG_TIMESTAMPTZ_LOADER)
    return adapters


# psycopg prepares a statement once it has run this many times on a connection; None turns
# preparing off, even when asked for. Only `PreparingCursor` binds on the server (Django's own
# cursors bind on the client, and psycopg never prepares their statements), and it asks for every
# statement to be prepared: the threshold is never reached, only the question "may it" is.
EXPLICIT_ONLY = 2**31 - 1


class PreparingCursor(ServerBindingCursor):
    """A cursor whose statements are bound on the server and prepared (psycopg keeps one
    prepared statement per SQL text and parameter types on each connection)."""

    def execute(self, query: Any, params: Any = None, **options: Any) -> Any:
        options.setdefault("prepare", True)
        return super().execute(query, params, **options)


class DatabaseOperations(PostgresOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str:
        """A prepared statement's query as Django's own cursors would have sent it (its values
        written in), for the query log (Django reads the text a client-side cursor sent)."""
        if isinstance(cursor, PreparingCursor):
            return self.compose_sql(sql, params)
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def prepares(self) -> bool:
        """Whether prepared_cursor() prepares (DATABASE_PREPARED_STATEMENTS)."""
        return bool(getattr(settings, "DATABASE_PREPARED_STATEMENTS", False))

    def prepared_cursor(self) -> CursorWrapper:
        """A cursor for statements run again and again with new values (tenants.compiled):
        prepared on this connection when prepares(), a plain cursor otherwise. Either way
        through Django's wrapper (its execute wrappers and query log see it) with the current
        schema's search path set (django-tenants sets it as a cursor is opened; PostgreSQL
        parses a prepared statement again when the search path differs from its last run, so
        one city's prepared statement never reads another's tables)."""
        cursor = self.cursor()
        if not self.prepares():
            return cursor
        cursor.close()
        return self._prepare_cursor(self._preparing_cursor_class(self.connection))

    @cached_property
    def _preparing_cursor_class(self) -> type:
        # Counted by django-prometheus as its cursors are.
        return ExportingCursorWrapper(PreparingCursor, self.alias, self.vendor)

    def psycopg_times(self) -> bool:
        """Whether psycopg's loader gives what Django's would: Django's zone is UTC."""
        return bool(settings.USE_TZ) and self.timezone is datetime.UTC

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        if self.psycopg_times():
            params["context"] = adapters_with_psycopg_times(params["context"])
        if self.prepares() and params.get("prepare_threshold") is None:
            params["prepare_threshold"] = EXPLICIT_ONLY
        return params

    @async_unsafe
    def create_cursor(self, name: str | None = None) -> Any:
        """Django's create_cursor (5.2), without its check of the connection's timestamptz
        loader (it reads a `timezone` attribute only Django's own loader has) when psycopg's
        is registered: both read UTC as UTC."""
        if not self.psycopg_times():
            return super().create_cursor(name)
        connection = self.connection
        if not name:
            return connection.cursor()
        if self.settings_dict["OPTIONS"].get("server_side_binding") is not True:
            return ServerSideCursor(
                connection, name=name, scrollable=False, withhold=connection.autocommit
            )
        return connection.cursor(name, scrollable=False, withhold=connection.autocommit)
