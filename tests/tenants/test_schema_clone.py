"""A cloned department schema is the same schema migrations would have built, rows included."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django_tenants.utils import schema_context

from tenants.models import Department
from tenants.schema_clone import quote, schema_clone
from tests.tenants.owner import owner_changes, template_changed

pytestmark = pytest.mark.django_db

# Each query describes one kind of object in the schema on the search path, by name, the way
# PostgreSQL prints it; two schemas built alike give equal answers.
CATALOG = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               a.attidentity, a.attgenerated, pg_get_expr(d.adbin, d.adrelid), a.attcollation
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = current_schema()::regnamespace AND a.attnum > 0
          AND NOT a.attisdropped""",
    "relations": """
        SELECT c.relname, c.relkind, c.relpersistence, c.relacl::text FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace""",
    "constraints": """
        SELECT c.relname, co.conname, co.contype, pg_get_constraintdef(co.oid, true),
               co.condeferrable, co.condeferred
        FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid
        WHERE c.relnamespace = current_schema()::regnamespace AND co.contype <> 'n'""",
    "not null": """
        SELECT c.relname, a.attname, co.conname FROM pg_constraint co
        JOIN pg_class c ON c.oid = co.conrelid
        JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = co.conkey[1]
        WHERE c.relnamespace = current_schema()::regnamespace AND co.contype = 'n'""",
    "indexes": """
        SELECT c.relname, pg_get_indexdef(i.indexrelid, 0, true)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relnamespace = current_schema()::regnamespace""",
    "sequences": """
        SELECT c.relname, s.seqtypid::regtype, s.seqstart, s.seqincrement, s.seqmax, s.seqmin,
               s.seqcycle, d.refobjid::regclass::text, d.refobjsubid
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid
        JOIN pg_depend d ON d.objid = s.seqrelid AND d.deptype = 'i'
        WHERE c.relnamespace = current_schema()::regnamespace""",
    "triggers": """
        SELECT pg_get_triggerdef(t.oid, true) FROM pg_trigger t
        JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal""",
    "functions": """
        SELECT p.proname, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid),
               p.prosrc, p.provolatile, p.prolang
        FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace""",
    "migrations": "SELECT app, name FROM django_migrations",
    "content types": "SELECT id, app_label, model FROM django_content_type",
    "permissions": "SELECT content_type_id, codename, name FROM auth_permission",
}


def without_casts(definition: str) -> str:
    """PostgreSQL prints a re-created partial index's WHERE with its casts in other places
    (`ARRAY['a'::varchar::text]` for `ARRAY['a'::varchar]::text[]`), as after any dump and
    restore; the index is the same."""
    return re.sub(r"::[a-z ]+(\[\])?", "", definition)


def catalog(schema_name: str) -> dict[str, list[Any]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SET search_path = {quote(schema_name)}")
        described = {}
        for kind, query in CATALOG.items():
            cursor.execute(query)
            rows = cursor.fetchall()
            if kind == "indexes":
                rows = [(name, without_casts(definition)) for name, definition in rows]
            described[kind] = sorted(rows, key=repr)
    connection.set_schema_to_public()
    return described


def department(schema_name: str) -> Department:
    return Department(schema_name=schema_name, name=schema_name, city="X", state="NC")


def test_a_cloned_schema_matches_a_migrated_one():
    department("springfield").save(verbosity=0)
    owner_changes()
    with override_settings(TENANT_BASE_SCHEMA=False, TENANT_CREATION_FAKES_MIGRATIONS=False):
        department("shelbyville").save(verbosity=0)

    cloned, migrated = catalog("springfield"), catalog("shelbyville")

    assert cloned["relations"], "the clone holds no tables"
    assert cloned["migrations"], "the clone holds no migration records"
    for kind in CATALOG:
        assert cloned[kind] == migrated[kind], kind


def test_the_clone_continues_the_templates_ids_and_keeps_its_triggers():
    department("springfield").save(verbosity=0)
    with schema_context("springfield"), connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM django_content_type")
        highest = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO django_content_type (app_label, model) VALUES ('x', 'y') RETURNING id"
        )
        assert cursor.fetchone()[0] == highest + 1
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'registry_auditentry'::regclass"
            " AND NOT tgisinternal ORDER BY tgname"
        )
        assert [row[0] for row in cursor.fetchall()] == [
            "registry_auditentry_chain",
            "registry_auditentry_no_truncate",
            "registry_auditentry_no_update_delete",
        ]
        cursor.execute("SAVEPOINT before_truncate")
        # Refused twice over: the application has no right to, and the trigger says no.
        with pytest.raises(Exception, match="permission denied"):
            cursor.execute("TRUNCATE registry_auditentry")
        cursor.execute("ROLLBACK TO SAVEPOINT before_truncate")


def test_a_template_with_objects_it_does_not_copy_is_migrated_instead():
    template_changed('CREATE VIEW "department_template".recent AS SELECT 1 AS one')
    assert not schema_clone("springfield")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'springfield'")
        assert cursor.fetchone() is None

    department("springfield").save(verbosity=0)

    with schema_context("springfield"), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'registry'")
        assert cursor.fetchone()[0] >= 3
        cursor.execute("SELECT to_regclass('recent')")
        assert cursor.fetchone() == (None,)


def test_comments_on_tables_and_columns_are_copied():
    template_changed(
        "COMMENT ON TABLE \"department_template\".registry_site IS 'A place with cameras';"
        "COMMENT ON COLUMN \"department_template\".registry_site.address IS 'As typed'"
    )
    department("springfield").save(verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description('springfield.registry_site'::regclass),"
            " col_description('springfield.registry_site'::regclass, a.attnum)"
            " FROM pg_attribute a"
            " WHERE a.attrelid = 'springfield.registry_site'::regclass AND a.attname = 'address'"
        )
        assert cursor.fetchone() == ("A place with cameras", "As typed")
