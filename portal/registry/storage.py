"""Where evidence lives: private storage, every file under its city's prefix
(tenants.storage holds the rules for both storages)."""

from __future__ import annotations

from django.core.files.storage import Storage

from tenants.db import tenant_connection
from tenants.storage import department_prefix, private_storage


def evidence_storage() -> Storage:
    """Footage clips and import files: never served under a public URL (STORAGES["evidence"])."""
    return private_storage()


def city_path(*parts: str) -> str:
    """A storage name under the current department's prefix: `<schema>/footage/...`, so that
    two cities' files never share a folder, whatever their ids."""
    return department_prefix(tenant_connection.schema_name) + "/".join(parts)
