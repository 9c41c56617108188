"""The project's PostgreSQL backend reads `timestamp with time zone` with psycopg's C loader
in Django's place (Django's is pure Python, ten times slower a value): the values are the ones
Django's loader gives, to the microsecond and with the same zone, through plain, named
(server-side) and model reads, in a department's schema as in the public one; a database whose
zone is not UTC keeps Django's loader."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.db.backends.postgresql.psycopg_any import BaseTzLoader, register_tzloader
from django_tenants.utils import schema_context
from psycopg.pq import Format

from tenants.postgresql.base import PSYCOPG_TIMESTAMPTZ_LOADER, TIMESTAMPTZ, DatabaseWrapper

pytestmark = pytest.mark.django_db

# Times a registry holds and a few that test the parsing: microseconds, both ends of a DST
# change in the US, an offset with minutes, a date before 1970 and one far ahead.
LITERALS = [
    "2026-11-27 06:51:05.123456+00",
    "2026-03-08 01:59:59.999999-06",
    "2026-03-08 03:00:00-05",
    "2026-11-01 01:30:00-05",
    "2026-11-01 01:30:00-06",
    "2026-06-30 23:59:59+05:45",
    "1969-12-31 23:59:59.5+00",
    "9999-12-31 23:59:59.999999+00",
]


def times_read(cursor_registering=None) -> list[datetime.datetime]:
    values = ", ".join(f"'{literal}'::timestamptz" for literal in LITERALS)
    with connection.cursor() as cursor:
        if cursor_registering is not None:
            cursor_registering(cursor.cursor)
        cursor.execute(f"SELECT {values}")
        return list(cursor.fetchone())


def test_the_connection_reads_times_with_psycopgs_loader() -> None:
    connection.ensure_connection()
    assert isinstance(connections["default"], DatabaseWrapper)
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
    assert loader is PSYCOPG_TIMESTAMPTZ_LOADER
    assert not issubclass(loader, BaseTzLoader)
    assert connection.connection.info.parameter_status("TimeZone") == "UTC"


def test_the_values_are_djangos_to_the_microsecond_and_zone() -> None:
    ours = times_read()
    djangos = times_read(lambda cursor: register_tzloader(datetime.UTC, cursor))
    assert ours == djangos
    assert [value.isoformat() for value in ours] == [value.isoformat() for value in djangos]
    assert all(value.tzinfo is datetime.UTC for value in ours)
    assert ours[0] == datetime.datetime(2026, 11, 27, 6, 51, 5, 123456, tzinfo=datetime.UTC)
    assert ours[2] - ours[1] == datetime.timedelta(microseconds=1)


def test_models_read_through_plain_and_named_cursors() -> None:
    joined = datetime.datetime(2026, 3, 8, 8, 0, 0, 654321, tzinfo=datetime.UTC)
    with schema_context("concord"):
        users = get_user_model().objects
        user = users.create(username="times@example.org", date_joined=joined)
        assert users.values_list("date_joined", flat=True).get(pk=user.pk) == joined
        assert users.get(pk=user.pk).date_joined.tzinfo is datetime.UTC
        # iterator() reads through a named (server-side) cursor outside a transaction.
        streamed = {row.pk: row.date_joined for row in users.iterator(chunk_size=2)}
        assert streamed[user.pk] == joined
        assert all(value.tzinfo is datetime.UTC for value in streamed.values())


def test_a_database_in_another_zone_keeps_djangos_loader() -> None:
    settings_dict = {**connection.settings_dict, "TIME_ZONE": "America/Chicago"}
    elsewhere = DatabaseWrapper(settings_dict, alias="elsewhere")
    try:
        assert not elsewhere.psycopg_times()
        elsewhere.ensure_connection()
        loader = elsewhere.connection.adapters.get_loader(TIMESTAMPTZ, Format.TEXT)
        assert issubclass(loader, BaseTzLoader)
        with elsewhere.cursor() as cursor:
            cursor.execute("SELECT '2026-07-04 12:00:00+00'::timestamptz")
            (value,) = cursor.fetchone()
        assert value == datetime.datetime(2026, 7, 4, 12, tzinfo=datetime.UTC)
        assert str(value.tzinfo) == "America/Chicago"
    finally:
        elsewhere.close()
