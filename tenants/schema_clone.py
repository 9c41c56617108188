"""Copying the migrated template schema into a new department's schema in one round trip.

django-tenants' cloner (pg-clone-schema) installs a 4,000-line PL/pgSQL function and walks the
catalog object by object on every call, and it renames unique constraints on the way
(`..._uniq` becomes `..._key`), which a later migration that drops them by name would trip on.
A department schema holds tables with identity columns, their constraints and indexes, a few
functions and triggers, privileges, comments, and the rows migrations wrote: this module reads
those from the catalog and recreates them, under the same names, with one script. Anything else
in the template (views, sequences of their own, types, policies, storage settings) makes
`schema_clone_plan` return None, and the caller falls back to django-tenants' cloner.

The catalog is read with the template alone on the search path, so that the definitions
PostgreSQL prints name the template's objects without a schema; the script runs with only the
new schema on the search path, so that the same names land there. tests/tenants/
test_schema_clone.py compares a clone with a migrated schema, object by object.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.db.backends.utils import CursorWrapper

logger = logging.getLogger(__name__)

# Things a department schema is not expected to hold; any of them means the fallback cloner.
UNSUPPORTED_OBJECTS = """
SELECT 'relation ' || c.relname || ' of kind ' || c.relkind::text
FROM pg_class c
WHERE c.relnamespace = %(schema)s::regnamespace
  AND (c.relkind NOT IN ('r', 'i', 'S')
       OR (c.relkind = 'S' AND NOT EXISTS (
           SELECT FROM pg_depend d
           WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i'))
       OR (c.relacl IS NOT NULL AND c.relkind <> 'r') OR c.relrowsecurity OR c.relispartition)
UNION ALL
SELECT 'type ' || t.typname FROM pg_type t
WHERE t.typnamespace = %(schema)s::regnamespace AND t.typrelid = 0 AND t.typelem = 0
UNION ALL
SELECT 'routine ' || p.proname || ' of kind ' || p.prokind::text FROM pg_proc p
WHERE p.pronamespace = %(schema)s::regnamespace AND (p.prokind <> 'f' OR p.proacl IS NOT NULL)
UNION ALL
SELECT 'default ' || pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
JOIN pg_class c ON c.oid = d.adrelid
WHERE c.relnamespace = %(schema)s::regnamespace AND pg_get_expr(d.adbin, d.adrelid) ~ 'nextval'
UNION ALL
SELECT 'rule ' || r.rulename FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE c.relnamespace = %(schema)s::regnamespace
UNION ALL
SELECT 'policy ' || p.polname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace = %(schema)s::regnamespace
UNION ALL
SELECT 'table settings of ' || c.relname FROM pg_class c
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
  AND (c.reloptions IS NOT NULL OR c.reltablespace <> 0 OR c.reloftype <> 0
       OR c.relreplident <> 'd' OR EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = c.oid)
       OR EXISTS (SELECT FROM pg_statistic_ext x WHERE x.stxrelid = c.oid))
UNION ALL
SELECT 'column settings of ' || c.relname || '.' || a.attname FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r' AND a.attnum > 0
  AND (a.attstorage <> t.typstorage OR a.attcompression <> '' OR a.attstattarget <> -1
       OR EXISTS (SELECT FROM unnest(a.attoptions) o WHERE o LIKE 'n\\_distinct%%'))
UNION ALL
SELECT 'comment on ' || d.classoid::regclass::text FROM pg_description d
JOIN pg_depend p ON p.classid = d.classoid AND p.objid = d.objoid
WHERE p.refclassid = 'pg_namespace'::regclass AND p.refobjid = %(schema)s::regnamespace
  AND d.classoid <> 'pg_class'::regclass
"""

# Columns of every table, in table creation order, as CREATE TABLE spells them: type, collation
# where it is not the type's own, identity with its sequence's name and options, generated
# expression, default, and NOT NULL under its constraint's name (PostgreSQL 18 names them).
COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attcollation <> t.typcollation THEN a.attcollation::regcollation::text END,
       a.attidentity, s.relname, q.seqstart, q.seqincrement, q.seqmin, q.seqmax, q.seqcache,
       q.seqcycle, a.attgenerated, pg_get_expr(d.adbin, d.adrelid), a.attnotnull,
       (SELECT n.conname FROM pg_constraint n
        WHERE n.conrelid = c.oid AND n.contype = 'n' AND n.conkey[1] = a.attnum)
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
LEFT JOIN pg_depend p ON p.refclassid = 'pg_class'::regclass AND p.refobjid = c.oid
     AND p.refobjsubid = a.attnum AND p.deptype = 'i' AND p.classid = 'pg_class'::regclass
LEFT JOIN pg_class s ON s.oid = p.objid
LEFT JOIN pg_sequence q ON q.seqrelid = s.oid
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
ORDER BY c.oid, a.attnum
"""

# Constraints other than NOT NULL, with the table a foreign key points at.
CONSTRAINTS = """
SELECT c.relname, co.conname, pg_get_constraintdef(co.oid, true), co.contype,
       f.relname, co.convalidated
FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid
LEFT JOIN pg_class f ON f.oid = co.confrelid
WHERE c.relnamespace = %(schema)s::regnamespace AND co.contype IN ('p', 'u', 'c', 'x', 'f')
ORDER BY co.oid
"""

# Indexes that no constraint owns (those come with their constraint).
INDEXES = """
SELECT pg_get_indexdef(i.indexrelid, 0, true)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace = %(schema)s::regnamespace
  AND NOT EXISTS (SELECT FROM pg_constraint co WHERE co.conindid = i.indexrelid
                  AND co.contype IN ('p', 'u', 'x'))
ORDER BY i.indexrelid
"""

FUNCTIONS = """
SELECT pg_get_functiondef(p.oid), quote_ident(n.nspname), quote_ident(p.proname)
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE p.pronamespace = %(schema)s::regnamespace ORDER BY p.oid
"""

TRIGGERS = """
SELECT pg_get_triggerdef(t.oid, true)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = %(schema)s::regnamespace AND NOT t.tgisinternal
ORDER BY t.oid
"""

# Privileges granted or revoked on tables (a migration may take UPDATE away from everyone);
# the owner's own privileges are the new owner's.
PRIVILEGES = """
SELECT c.relname,
       CASE WHEN acl.grantee = 0 THEN 'PUBLIC'
            WHEN acl.grantee = c.relowner THEN 'CURRENT_USER'
            ELSE quote_ident(acl.grantee::regrole::text) END,
       string_agg(acl.privilege_type, ', ' ORDER BY acl.privilege_type),
       acl.is_grantable
FROM pg_class c, aclexplode(c.relacl) acl
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
GROUP BY c.oid, c.relname, acl.grantee, c.relowner, acl.is_grantable ORDER BY c.oid
"""

# Comments on tables and their columns (Django's db_table_comment and db_comment).
COMMENTS = """
SELECT c.relname, a.attname, d.description
FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
"""


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_definition(
    name: str,
    type_name: str,
    collation: str | None,
    identity: str,
    sequence: str | None,
    start: int | None,
    increment: int | None,
    least: int | None,
    most: int | None,
    cache: int | None,
    cycle: bool | None,
    generated: str,
    expression: str | None,
    not_null: bool,
    not_null_name: str | None,
) -> str:
    parts = [quote(name), type_name]
    if collation:
        parts.append(f"COLLATE {collation}")
    if identity:
        # Spelled out: CREATE TABLE ... LIKE ... INCLUDING IDENTITY makes an integer column's
        # sequence a bigint one.
        parts.append(
            f"GENERATED {'ALWAYS' if identity == 'a' else 'BY DEFAULT'} AS IDENTITY "
            f"(SEQUENCE NAME {quote(sequence or '')} START WITH {start} INCREMENT BY "
            f"{increment} MINVALUE {least} MAXVALUE {most} CACHE {cache} "
            f"{'CYCLE' if cycle else 'NO CYCLE'})"
        )
    elif generated:
        parts.append(
            f"GENERATED ALWAYS AS ({expression}) {'VIRTUAL' if generated == 'v' else 'STORED'}"
        )
    elif expression is not None:
        parts.append(f"DEFAULT {expression}")
    if not_null:
        parts.append(f"CONSTRAINT {quote(not_null_name)} NOT NULL" if not_null_name else "NOT NULL")
    return " ".join(parts)


def schema_clone_plan(cursor: CursorWrapper, template: str) -> list[str] | None:
    """The statements that recreate `template` (structure and rows) in the schema on the search
    path when they run, or None when the template holds something this module does not copy."""
    parameters = {"schema": template}
    cursor.execute(f"SET search_path = {quote(template)}")
    cursor.execute(UNSUPPORTED_OBJECTS, parameters)
    unsupported = [row[0] for row in cursor.fetchall()]
    if unsupported:
        logger.warning(
            "Cloning %s with django-tenants: it holds %s", template, ", ".join(unsupported)
        )
        return None
    statements: list[str] = []
    # Functions first: defaults, checks and triggers may call them.
    cursor.execute(FUNCTIONS, parameters)
    for definition, schema, name in cursor.fetchall():
        # pg_get_functiondef always names the schema; the copy belongs to the new one.
        statements.append(definition.replace(f"FUNCTION {schema}.{name}(", f"FUNCTION {name}(", 1))

    # Each table is created whole, with its keys, checks and the foreign keys to tables made
    # before it: one statement per table is much cheaper than one per constraint.
    tables: dict[str, list[str]] = {}
    insertable: dict[str, list[str]] = {}
    identities: list[tuple[str, str, str]] = []
    cursor.execute(COLUMNS, parameters)
    for table, column, *definition in cursor.fetchall():
        tables.setdefault(table, []).append(column_definition(column, *definition))
        identity, sequence, generated = definition[2], definition[3], definition[11]
        if not generated:
            insertable.setdefault(table, []).append(quote(column))
        if identity:
            identities.append((table, column, sequence))
    order = {table: position for position, table in enumerate(tables)}
    later: list[str] = []
    cursor.execute(CONSTRAINTS, parameters)
    for table, name, definition, kind, target, validated in cursor.fetchall():
        constraint = f"CONSTRAINT {quote(name)} {definition}"
        if validated and (kind != "f" or order[target] <= order[table]):
            tables[table].append(constraint)
        elif validated:
            later.append(f"ALTER TABLE {quote(table)} ADD {constraint}")
        else:
            # Rows the template holds may break a NOT VALID constraint; a copy has to accept
            # them as migrations did, so this clone cannot be built ahead of its rows.
            logger.warning("Cloning %s with django-tenants: %s is not validated", template, name)
            return None
    for table, elements in tables.items():
        statements.append(f"CREATE TABLE {quote(table)} ({', '.join(elements)})")

    statements.extend(later)
    # Indexes before rows: a deferred foreign key check pending on a table forbids indexing it.
    cursor.execute(INDEXES, parameters)
    statements.extend(row[0] for row in cursor.fetchall())

    source = quote(template)
    for table, columns in insertable.items():
        column_list = ", ".join(columns)
        statements.append(
            f"INSERT INTO {quote(table)} ({column_list}) OVERRIDING SYSTEM VALUE "
            f"SELECT {column_list} FROM {source}.{quote(table)}"
        )
    # The copied rows keep their ids; the next one follows on from them.
    for table, column, sequence in identities:
        statements.append(
            f"SELECT setval({literal(quote(sequence))}, max({quote(column)})) "
            f"FROM {quote(table)} HAVING max({quote(column)}) IS NOT NULL"
        )
    # Triggers after rows: the template's rows were written before, or without, them.
    cursor.execute(TRIGGERS, parameters)
    statements.extend(row[0] for row in cursor.fetchall())
    cursor.execute(PRIVILEGES, parameters)
    revoked: set[str] = set()
    for table, grantee, privileges, grantable in cursor.fetchall():
        if table not in revoked:
            # A table with privileges of its own starts from none, then gets exactly those.
            statements.append(f"REVOKE ALL ON TABLE {quote(table)} FROM PUBLIC, CURRENT_USER")
            revoked.add(table)
        option = " WITH GRANT OPTION" if grantable else ""
        statements.append(f"GRANT {privileges} ON TABLE {quote(table)} TO {grantee}{option}")
    cursor.execute(COMMENTS, parameters)
    for table, column, description in cursor.fetchall():
        target = f"COLUMN {quote(table)}.{quote(column)}" if column else f"TABLE {quote(table)}"
        statements.append(f"COMMENT ON {target} IS {literal(description)}")
    return statements


def schema_clone(template: str, schema_name: str) -> bool:
    """Create `schema_name` as a copy of `template` with its rows, in the current transaction.
    Returns False, having created nothing, when the template needs django-tenants' cloner."""
    with connection.cursor() as cursor:
        statements = schema_clone_plan(cursor, template)
        if statements is None:
            return False
        cursor.execute(f"CREATE SCHEMA {quote(schema_name)}")
        cursor.execute(f"SET search_path = {quote(schema_name)}")
        # Without parameters psycopg sends the script as one simple query: one round trip.
        cursor.execute(";\n".join(statements))
    # django-tenants sets the search path again on the next cursor; say so explicitly anyway.
    connection.set_schema_to_public()
    return True
