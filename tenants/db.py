"""The database connection as django-tenants extends it (which schema it is set to), typed."""

from __future__ import annotations

from typing import Any, Protocol, cast

from django.db import connection


class TenantConnection(Protocol):
    """What django-tenants' PostgreSQL backend adds to Django's connection."""

    schema_name: str
    tenant: Any

    def set_schema_to_public(self) -> None: ...


# The same object as django.db.connection (a proxy to the thread's connection), typed.
tenant_connection = cast(TenantConnection, connection)
