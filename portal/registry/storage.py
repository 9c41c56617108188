"""Where evidence lives: private storage, every file under its city's prefix."""

from __future__ import annotations

import re

from django.core.files.storage import Storage, storages

from tenants.db import tenant_connection


def evidence_storage() -> Storage:
    """Footage clips and import files: never served under a public URL (STORAGES["evidence"])."""
    return storages["evidence"]


def city_path(*parts: str) -> str:
    """A storage name under the current department's prefix: `<schema>/footage/...`, so that
    two cities' files never share a folder, whatever their ids."""
    return "/".join([tenant_connection.schema_name, *parts])


def _tree_delete(storage: Storage, folder: str) -> int:
    """Delete every file under `folder` of `storage` (through the storage API, so local disk
    and S3 alike); returns how many."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return 0
    deleted = 0
    for name in files:
        storage.delete(f"{folder}/{name}")
        deleted += 1
    for child in folders:
        deleted += _tree_delete(storage, f"{folder}/{child}")
    return deleted


def department_files_delete(schema_name: str) -> int:
    """Remove every file a deleted department had: everything under its prefix in the default
    and the evidence storages, and its logo (`logos/<schema>.<ext>`, tenants.models.logo_path).
    Returns how many files went. Safe to run again (it finds nothing the second time)."""
    if not schema_name or "/" in schema_name or schema_name.startswith("."):
        raise ValueError(f"not a department's schema name: {schema_name!r}")
    default = storages["default"]
    deleted = _tree_delete(evidence_storage(), schema_name) + _tree_delete(default, schema_name)
    try:
        _folders, logos = default.listdir("logos")
    except FileNotFoundError:
        logos = []
    # Django's storage adds "_" and seven characters to a name already taken.
    own_logo = re.compile(rf"^{re.escape(schema_name)}(?:_[A-Za-z0-9]{{7}})?\.[a-z]+$")
    for name in logos:
        if own_logo.match(name):
            default.delete(f"logos/{name}")
            deleted += 1
    return deleted
