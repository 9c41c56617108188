"""Where evidence lives: private storage, every file under its city's prefix."""

from __future__ import annotations

from django.core.files.storage import Storage, storages

from tenants.db import tenant_connection


def evidence_storage() -> Storage:
    """Footage clips and import files: never served under a public URL (STORAGES["evidence"])."""
    return storages["evidence"]


def city_path(*parts: str) -> str:
    """A storage name under the current department's prefix: `<schema>/footage/...`, so that
    two cities' files never share a folder, whatever their ids."""
    return "/".join([tenant_connection.schema_name, *parts])
