"""The database connection as django-tenants extends it (which schema it is set to), typed;
writing many rows at once with COPY; and locks held for as long as a process lives."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, cast

import orjson
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Model


class TenantConnection(Protocol):
    """What django-tenants' PostgreSQL backend adds to Django's connection."""

    schema_name: str
    tenant: Any

    def set_schema(self, schema_name: str, include_public: bool = True) -> None: ...

    def set_schema_to_public(self) -> None: ...

    def set_tenant(self, tenant: Any, include_public: bool = True) -> None: ...


# The same object as django.db.connection (a proxy to the thread's connection), typed.
tenant_connection = cast(TenantConnection, connection)

logger = logging.getLogger(__name__)


@contextmanager
def session_lock(key: str) -> Iterator[bool]:
    """Whether this process holds the lock named `key`: a PostgreSQL advisory lock on the
    connection's session, taken without waiting. The database releases it when the process
    dies, so a lock found free means whoever held it is gone (no heartbeat or expiry to
    guess). Released at the end of the block; a connection that died meanwhile (a database
    restart) took the lock with it, and the block's own error is the one reported."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key])
        (held,) = cursor.fetchone()
    try:
        yield bool(held)
    finally:
        if held and connection.connection is not None:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])
            except (OperationalError, InterfaceError):
                logger.warning("Lock %s: its connection is gone, and the lock with it", key)


def _copy_columns(model: type[Model], columns: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
    """The quoted column list for a COPY of `columns` into a model's table, followed by every
    other column but the primary key, and those other columns' default values."""
    fields = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in columns
    ]
    defaults = tuple(field.get_db_prep_save(field.get_default(), connection) for field in fields)
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name in (*columns, *(field.column for field in fields)))
    return names, defaults


def insert_defaults(
    model: type[Model], columns: Sequence[str]
) -> tuple[list[str], list[str], list[Any]]:
    """For an INSERT ... SELECT that gives `columns` (attnames) of a model's table: every other
    column but the primary key, quoted, a placeholder cast to its column's type for each (an
    untyped parameter in a SELECT list would be text), and their default values, as
    bulk_create would give them."""
    fields = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in columns
    ]
    quote = connection.ops.quote_name
    return (
        [quote(field.column) for field in fields],
        [f"%s::{field.db_type(connection)}" for field in fields],
        [field.get_db_prep_save(field.get_default(), connection) for field in fields],
    )


def copy_text_array(values: Iterable[int]) -> str:
    """Integers as PostgreSQL's text form of an integer array ("{2,3}"), which COPY reads into
    an integer[] column: psycopg's array dumper looks up each list's element type row by row."""
    return "{" + ",".join(str(int(value)) for value in values) + "}"


def copy_text_json(value: Any) -> str:
    """A JSON value as text, which COPY reads into a json or jsonb column (orjson: the same
    text's meaning as json.dumps at several times the speed; the input's types are JSON's own)."""
    return orjson.dumps(value).decode()


def copy_rows(model: type[Model], rows: Iterable[Sequence[Any]], *, columns: Sequence[str]) -> int:
    """Write rows into a model's table with COPY (in the current schema): each row gives the
    `columns` (attnames), every other column but the primary key its field's default, as
    bulk_create would. Like bulk_create, no save() and no signals. Returns how many rows."""
    names, defaults = _copy_columns(model, columns)
    table = connection.ops.quote_name(model._meta.db_table)
    count = 0
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((*row, *defaults))
            count += 1
    return count


def copy_rows_returning_ids(
    model: type[Model], rows: Iterable[Sequence[Any]], *, columns: Sequence[str]
) -> list[int]:
    """copy_rows, returning the new rows' ids in the rows' order: the rows are copied into a
    temporary table, then inserted from it in order (so their ids are drawn in that order)."""
    names, defaults = _copy_columns(model, columns)
    table = connection.ops.quote_name(model._meta.db_table)
    stage = "copy_rows_stage"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {stage} AS SELECT 0 AS n, {names} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY {stage} (n, {names}) FROM STDIN") as copy:
            for number, row in enumerate(rows):
                copy.write_row((number, *row, *defaults))
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ORDER BY n RETURNING id"
        )
        # Identity values are drawn as the ordered rows are inserted, whatever order RETURNING
        # gives them back in.
        ids = sorted(row[0] for row in cursor.fetchall())
        cursor.execute(f"DROP TABLE {stage}")
    return ids
