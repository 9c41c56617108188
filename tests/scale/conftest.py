"""Throwaway departments that commit (migrating processes and pg_dump have connections of
their own, so nothing can stay inside a test's transaction), removed afterwards; the session's
three cities are never changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.db import connection

from tenants.database import database_owner
from tenants.models import Department
from tenants.services import department_provision
from tests.conftest import assert_test_database

SESSION_CITIES = ("carrollton", "concord", "littlerock")


def as_owner(sql: str, parameters: list[object] | None = None) -> list[tuple[object, ...]]:
    with database_owner(), connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchall() if cursor.description else []


def departments_remove(subdomains: tuple[str, ...]) -> None:
    connection.set_schema_to_public()
    Department.objects.filter(schema_name__in=subdomains).delete()
    for schema in subdomains:
        as_owner(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        as_owner(f'DROP SCHEMA IF EXISTS "{schema}_damaged" CASCADE')  # a restore's leftover


@pytest.fixture
def committed_departments(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[Callable[..., None]]:
    """committed_departments("a", "b") provisions those departments, committed, with database
    access left open for the rest of the test; they and their schemas go at the end."""
    made: list[str] = []
    with django_db_blocker.unblock():
        assert_test_database()

        def provision(*subdomains: str) -> None:
            departments_remove(subdomains)  # left by an interrupted run
            for subdomain in subdomains:
                made.append(subdomain)
                department_provision(
                    subdomain=subdomain,
                    name=f"{subdomain.title()} Police Department",
                    city=subdomain.title(),
                    state="AR",
                    time_zone="America/Chicago",
                    display_name=f"{subdomain.title()} Registry",
                    center_latitude=34.7465,
                    center_longitude=-92.2896,
                    service_radius_m=10_000,
                    administrator_email=f"chief@{subdomain}.example.org",
                    administrator_password="a-long-enough-passphrase",
                )

        try:
            yield provision
        finally:
            departments_remove(tuple(made))
