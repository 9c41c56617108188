"""Copying the migrated template schema into a new department's schema in one round trip.

django-tenants' cloner (pg-clone-schema) installs a 4,000-line PL/pgSQL function and walks the
catalog object by object on every call, and it renames unique constraints on the way
(`..._uniq` becomes `..._key`), which a later migration that drops them by name would trip on.
A department schema holds tables with identity columns, their constraints and indexes, a few
functions and triggers, privileges, comments, and the rows migrations wrote: this module reads
those from the catalog and recreates them, under the same names, with one script. Anything else
in the template (views, sequences of their own, types, policies, storage settings) makes
`schema_clone_plan` return None, and the new schema is migrated instead.

The catalog is read with the template alone on the search path, so that the definitions
PostgreSQL prints name the template's objects without a schema; the script runs with only the
new schema on the search path, so that the same names land there. tests/tenants/
test_schema_clone.py compares a clone with a migrated schema, object by object.

The application's database role may not create anything (tenants.database), so the owner
builds the script when it refreshes the template and keeps it in a function,
`public.department_schema_create(name)`, that runs as the owner (SECURITY DEFINER) and can do
one thing only: create a schema that does not exist yet as a copy of the template. The
application calls it inside its provisioning transaction, so a failed provisioning leaves no
schema behind.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from typing import NamedTuple

from django.db import connection
from django.db.backends.utils import CursorWrapper

from tenants.db import tenant_connection

logger = logging.getLogger(__name__)

# Anything in the template but plain tables, their identity sequences and plain functions
# (every object a schema holds directly depends on it in pg_depend), and the table features
# this module does not copy. Any row means the fallback cloner.
UNSUPPORTED_OBJECTS = """
WITH objects AS (
    SELECT d.classid, d.objid FROM pg_depend d
    WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = %(schema)s::regnamespace
), tables AS (
    SELECT c.* FROM objects o JOIN pg_class c ON c.oid = o.objid
    WHERE o.classid = 'pg_class'::regclass AND c.relkind = 'r'
)
SELECT pg_describe_object(o.classid, o.objid, 0) FROM objects o
LEFT JOIN pg_class c ON o.classid = 'pg_class'::regclass AND c.oid = o.objid
LEFT JOIN pg_proc p ON o.classid = 'pg_proc'::regclass AND p.oid = o.objid
WHERE NOT coalesce(
    (c.relkind = 'r' AND NOT c.relrowsecurity AND NOT c.relispartition AND c.reloftype = 0
     AND c.reloptions IS NULL AND c.reltablespace = 0 AND c.relreplident = 'd')
    OR (c.relkind = 'S' AND c.relacl IS NULL AND EXISTS (
        SELECT FROM pg_depend i WHERE i.classid = 'pg_class'::regclass AND i.objid = c.oid
        AND i.deptype = 'i'))
    OR (p.prokind = 'f' AND p.proacl IS NULL), false)
UNION ALL
SELECT 'inheritance, statistics, rules or policies of ' || t.relname FROM tables t
WHERE EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = t.oid OR i.inhparent = t.oid)
   OR EXISTS (SELECT FROM pg_statistic_ext x WHERE x.stxrelid = t.oid)
   OR EXISTS (SELECT FROM pg_rewrite r WHERE r.ev_class = t.oid)
   OR EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = t.oid)
UNION ALL
SELECT 'storage settings of ' || t.relname || '.' || a.attname FROM tables t
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 JOIN pg_type y ON y.oid = a.atttypid
WHERE a.attstorage <> y.typstorage OR a.attcompression <> '' OR a.attstattarget <> -1
   OR EXISTS (SELECT FROM unnest(a.attoptions) o WHERE o LIKE 'n\\_distinct%%')
UNION ALL
SELECT 'a default taken from a sequence in ' || t.relname FROM tables t
JOIN pg_attrdef d ON d.adrelid = t.oid WHERE pg_get_expr(d.adbin, d.adrelid) ~ 'nextval'
UNION ALL
SELECT 'a comment on ' || pg_describe_object(d.classoid, d.objoid, d.objsubid)
FROM pg_description d
WHERE (d.classoid = 'pg_class'::regclass AND d.objoid IN (
           SELECT i.indexrelid FROM pg_index i JOIN tables t ON t.oid = i.indrelid))
   OR (d.classoid = 'pg_constraint'::regclass AND d.objoid IN (
           SELECT co.oid FROM pg_constraint co JOIN tables t ON t.oid = co.conrelid))
   OR (d.classoid = 'pg_trigger'::regclass AND d.objoid IN (
           SELECT g.oid FROM pg_trigger g JOIN tables t ON t.oid = g.tgrelid))
   OR (d.classoid = 'pg_proc'::regclass AND d.objoid IN (
           SELECT o.objid FROM objects o WHERE o.classid = 'pg_proc'::regclass))
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
       CASE WHEN f.relnamespace = %(schema)s::regnamespace THEN f.relname END, co.convalidated
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

# Privileges granted or revoked on tables (a migration may take UPDATE away from everyone),
# in the order they were granted; the owner's own privileges are the new owner's.
PRIVILEGES = """
SELECT c.relname,
       CASE WHEN acl.grantee = 0 THEN 'PUBLIC'
            WHEN acl.grantee = c.relowner THEN 'CURRENT_USER'
            ELSE quote_ident(acl.grantee::regrole::text) END,
       string_agg(acl.privilege_type, ', ' ORDER BY acl.privilege_type),
       acl.is_grantable
FROM pg_class c, aclexplode(c.relacl) WITH ORDINALITY acl
WHERE c.relnamespace = %(schema)s::regnamespace AND c.relkind = 'r'
GROUP BY c.oid, c.relname, acl.grantee, c.relowner, acl.is_grantable
ORDER BY c.oid, min(acl.ordinality)
"""

# Whom the owner's default privileges give rights on a new table (tenants.database): a copy
# takes those away before it grants the template's own, or the application would keep, on the
# copied audit trail, the UPDATE and DELETE the template's migrations took from it.
DEFAULT_GRANTEES = """
SELECT DISTINCT CASE WHEN acl.grantee = 0 THEN 'PUBLIC'
                     ELSE quote_ident(acl.grantee::regrole::text) END
FROM pg_default_acl d, aclexplode(d.defaclacl) acl
WHERE d.defaclrole = current_user::regrole AND d.defaclobjtype = 'r'
  AND d.defaclnamespace = 0 AND acl.grantee <> d.defaclrole
"""

CLONE_FUNCTION = "public.department_schema_create(text)"

# The owner's function that copies the template (its script is spliced in where the marker
# is). The search path keeps the session's temporary tables last, so that a table of the same
# name the caller made there cannot take the copy's rows, grants or revokes.
CLONE_FUNCTION_DEFINITION = """
CREATE OR REPLACE FUNCTION public.department_schema_create(schema_name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $clone$
BEGIN
    IF schema_name !~ '^[a-z][a-z0-9_]{0,29}$' OR schema_name LIKE 'pg\\_%%'
       OR schema_name IN ('public', %(template)s) THEN
        RAISE EXCEPTION 'not a name for a new department schema: %%', schema_name
            USING ERRCODE = 'invalid_schema_name';
    END IF;
    EXECUTE format('CREATE SCHEMA %%I', schema_name);
    PERFORM set_config('search_path', quote_ident(schema_name) || ', pg_temp', true);
    EXECUTE SCRIPT;
END
$clone$
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


class Column(NamedTuple):
    """One row of COLUMNS."""

    table: str
    name: str
    type_name: str
    collation: str | None
    identity: str
    sequence: str | None
    start: int | None
    increment: int | None
    least: int | None
    most: int | None
    cache: int | None
    cycle: bool | None
    generated: str
    expression: str | None
    not_null: bool
    not_null_name: str | None

    def definition(self) -> str:
        parts = [quote(self.name), self.type_name]
        if self.collation:
            parts.append(f"COLLATE {self.collation}")
        if self.identity:
            # Spelled out: CREATE TABLE ... LIKE ... INCLUDING IDENTITY would make an integer
            # column's sequence a bigint one.
            parts.append(
                f"GENERATED {'ALWAYS' if self.identity == 'a' else 'BY DEFAULT'} AS IDENTITY "
                f"(SEQUENCE NAME {quote(self.sequence or '')} START WITH {self.start} "
                f"INCREMENT BY {self.increment} MINVALUE {self.least} MAXVALUE {self.most} "
                f"CACHE {self.cache} {'CYCLE' if self.cycle else 'NO CYCLE'})"
            )
        elif self.generated:
            kind = "VIRTUAL" if self.generated == "v" else "STORED"
            parts.append(f"GENERATED ALWAYS AS ({self.expression}) {kind}")
        elif self.expression is not None:
            parts.append(f"DEFAULT {self.expression}")
        if self.not_null:
            name = f"CONSTRAINT {quote(self.not_null_name)} " if self.not_null_name else ""
            parts.append(f"{name}NOT NULL")
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
            "Not cloning %s (new schemas are migrated): it holds %s",
            template,
            ", ".join(unsupported),
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
    cursor.execute(COLUMNS, parameters)
    columns = [Column(*row) for row in cursor.fetchall()]
    for column in columns:
        tables.setdefault(column.table, []).append(column.definition())
        if not column.generated:
            insertable.setdefault(column.table, []).append(quote(column.name))
    order = {table: position for position, table in enumerate(tables)}
    later: list[str] = []
    cursor.execute(CONSTRAINTS, parameters)
    for table, name, definition, kind, target, validated in cursor.fetchall():
        constraint = f"CONSTRAINT {quote(name)} {definition}"
        # A foreign key to a table outside the template (target None) can be made at once.
        if validated and (kind != "f" or order.get(target, -1) <= order[table]):
            tables[table].append(constraint)
        elif validated:
            later.append(f"ALTER TABLE {quote(table)} ADD {constraint}")
        else:
            # Rows the template holds may break a NOT VALID constraint; a copy has to accept
            # them as migrations did, so this clone cannot be built ahead of its rows.
            logger.warning(
                "Not cloning %s (new schemas are migrated): %s is not validated", template, name
            )
            return None
    for table, elements in tables.items():
        statements.append(f"CREATE TABLE {quote(table)} ({', '.join(elements)})")

    statements.extend(later)
    # Indexes before rows: a deferred foreign key check pending on a table forbids indexing it.
    cursor.execute(INDEXES, parameters)
    statements.extend(row[0] for row in cursor.fetchall())

    source = quote(template)
    for table, names in insertable.items():
        column_list = ", ".join(names)
        statements.append(
            f"INSERT INTO {quote(table)} ({column_list}) OVERRIDING SYSTEM VALUE "
            f"SELECT {column_list} FROM {source}.{quote(table)}"
        )
    # The copied rows keep their ids; the next one follows on from them.
    for column in columns:
        if column.identity:
            statements.append(
                f"SELECT setval({literal(quote(column.sequence or ''))}, max({quote(column.name)}))"
                f" FROM {quote(column.table)} HAVING max({quote(column.name)}) IS NOT NULL"
            )
    # Triggers after rows: the template's rows were written before, or without, them.
    cursor.execute(TRIGGERS, parameters)
    statements.extend(row[0] for row in cursor.fetchall())
    cursor.execute(DEFAULT_GRANTEES)
    default_grantees = [row[0] for row in cursor.fetchall()]
    cursor.execute(PRIVILEGES, parameters)
    grants = cursor.fetchall()
    grantees: dict[str, set[str]] = {}
    for table, grantee, _privileges, _grantable in grants:
        grantees.setdefault(table, {"PUBLIC", "CURRENT_USER"}).add(grantee)
    for table in tables:
        # A table with privileges of its own starts from none, then gets exactly those; one
        # without (PostgreSQL's defaults) loses what the owner's default privileges gave.
        revoke_from = sorted(grantees.get(table, set()) | set(default_grantees))
        if revoke_from:
            statements.append(f"REVOKE ALL ON TABLE {quote(table)} FROM {', '.join(revoke_from)}")
    for table, grantee, privileges, grantable in grants:
        option = " WITH GRANT OPTION" if grantable else ""
        statements.append(f"GRANT {privileges} ON TABLE {quote(table)} TO {grantee}{option}")
    cursor.execute(COMMENTS, parameters)
    for table, column, description in cursor.fetchall():
        target = f"COLUMN {quote(table)}.{quote(column)}" if column else f"TABLE {quote(table)}"
        statements.append(f"COMMENT ON {target} IS {literal(description)}")
    return statements


def template_fingerprint(migrations: Iterable[tuple[str, str]]) -> str:
    """Names the state of the template a clone function copies: its applied migrations."""
    names = ",".join(sorted(f"{app}.{name}" for app, name in migrations))
    return hashlib.sha256(names.encode()).hexdigest()


def schema_clone_function_install(template: str, *, fingerprint: str, application: str) -> bool:
    """(As the owner.) Make the function that copies `template`, marked with its fingerprint,
    that only `application` may call. Returns False, having removed any older one, when the
    template cannot be copied this way."""
    try:
        with connection.cursor() as cursor:
            statements = schema_clone_plan(cursor, template)
            cursor.execute("SET search_path = public")
            if statements is None:
                cursor.execute(f"DROP FUNCTION IF EXISTS {CLONE_FUNCTION}")
                return False
            # Spliced into a statement with parameters: its own % signs are doubled.
            script = ";\n".join(statements).replace("%", "%%")
            tag = f"$script_{secrets.token_hex(8)}$"
            cursor.execute(
                CLONE_FUNCTION_DEFINITION.replace("SCRIPT", f"{tag}{script}{tag}"),
                {"template": template},
            )
            cursor.execute(f"COMMENT ON FUNCTION {CLONE_FUNCTION} IS {literal(fingerprint)}")
            cursor.execute(f"REVOKE ALL ON FUNCTION {CLONE_FUNCTION} FROM PUBLIC")
            if application:
                cursor.execute(
                    f"GRANT EXECUTE ON FUNCTION {CLONE_FUNCTION} TO {quote(application)}"
                )
    finally:
        # The search path was set behind django-tenants' back; have it set again.
        tenant_connection.set_schema_to_public()
    return True


def schema_clone_function_fingerprint() -> str | None:
    """The fingerprint of the template the clone function copies; None without one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(to_regprocedure(%s), 'pg_proc')", [CLONE_FUNCTION])
        return cursor.fetchone()[0]


def schema_clone(schema_name: str) -> bool:
    """Create `schema_name` as a copy of the template with its rows, in the current transaction,
    through the owner's function. Returns False, having created nothing, when there is none (the
    template cannot be copied this way: the schema is migrated instead)."""
    if schema_clone_function_fingerprint() is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.department_schema_create(%s)", [schema_name])
    return True
