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
Any other setup keeps Django's loader."""

from __future__ import annotations

import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.backends.postgresql.base import ServerSideCursor  # type: ignore[attr-defined]
from django.utils.asyncio import async_unsafe
from django_prometheus.db.backends.postgresql import base
from psycopg import adapters as psycopg_adapters
from psycopg.adapt import AdaptersMap
from psycopg.postgres import types as postgres_types
from psycopg.pq import Format

# ServerSideCursor: Django defines it when psycopg 3 is installed; django-stubs does not know it.
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


class DatabaseWrapper(base.DatabaseWrapper):
    def psycopg_times(self) -> bool:
        """Whether psycopg's loader gives what Django's would: Django's zone is UTC."""
        return bool(settings.USE_TZ) and self.timezone is datetime.UTC

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        if self.psycopg_times():
            params["context"] = adapters_with_psycopg_times(params["context"])
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
