"""Changing the template or making schemas as the database owner, from a test.

The owner's work commits at once (the application's role, which the tests use, may not change
any structure), and it cannot be undone while the test's own transaction still holds the new
schemas' sequences (PostgreSQL keeps those locks to the end of the transaction, savepoints or
not). So a test that does it says so (`owner_changes()`), and tests/tenants/conftest.py puts
everything back before the next test and at the end of the module.
"""

from __future__ import annotations

from django.db import connection

from tenants.database import database_owner
from tenants.schema_clone import CLONE_FUNCTION
from tenants.services import template_schema_refresh

_changed = False


def owner_changes() -> None:
    """Mark that this test changed schemas as the owner."""
    global _changed
    _changed = True


def as_owner(sql: str) -> None:
    owner_changes()
    with database_owner(), connection.cursor() as cursor:
        cursor.execute(sql)


def template_changed(sql: str) -> None:
    """Change the template as the owner, and make the clone function copy it as it is now."""
    as_owner(f"{sql}; DROP FUNCTION IF EXISTS {CLONE_FUNCTION}")
    template_schema_refresh()


def owner_changes_undo() -> None:
    """Drop the schemas that no department has, and build the template and its clone function
    again from the migrations, if a test changed them."""
    global _changed
    if not _changed:
        return
    connection.set_schema_to_public()
    with database_owner(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT quote_ident(nspname) FROM pg_namespace WHERE nspname NOT IN"
            " (SELECT schema_name FROM tenants_department) AND nspname NOT LIKE 'pg\\_%'"
            " AND nspname NOT IN ('information_schema', 'department_template')"
        )
        for (schema,) in cursor.fetchall():
            cursor.execute(f"DROP SCHEMA {schema} CASCADE")
        cursor.execute(
            f'DROP SCHEMA IF EXISTS "department_template" CASCADE;'
            f" DROP FUNCTION IF EXISTS {CLONE_FUNCTION}"
        )
    template_schema_refresh()
    _changed = False
