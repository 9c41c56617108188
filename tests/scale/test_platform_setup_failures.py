"""platform_setup migrates every department even when one of them fails, in parallel and one
after another, and names the one that failed."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

from tenants.services import department_schemas_behind
from tests.scale.conftest import SESSION_CITIES, as_owner

BROKEN = "scalea"  # first in order, so that in one process the others come after its failure
SUBDOMAINS = (BROKEN, "scaleb", "scalec")


def shared_only_leaf_migration() -> tuple[str, str]:
    """The last migration of an app that lives only in the public schema: in a department's
    schema migrate_schemas records it without running anything, so forgetting its record puts a
    department one harmless migration behind."""
    shared_only = {
        config.label
        for config in apps.get_app_configs()
        if config.name in settings.SHARED_APPS and config.name not in settings.TENANT_APPS
    }
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    leaves = [
        key for key, node in graph.node_map.items() if key[0] in shared_only and not node.children
    ]
    assert leaves, "no public-only app with migrations"
    return sorted(leaves)[0]


def migration_rows(schema: str) -> int:
    return int(as_owner(f'SELECT count(*) FROM "{schema}".django_migrations')[0][0])


@pytest.fixture
def behind(committed_departments: Callable[..., None]) -> str:
    """Three throwaway departments: two one harmless migration behind, and BROKEN with its
    migration history lost, so that migrating it tries to create tables it already has."""
    leaf = shared_only_leaf_migration()
    committed_departments(*SUBDOMAINS)
    for subdomain in SUBDOMAINS:
        as_owner(
            f'DELETE FROM "{subdomain}".django_migrations WHERE app = %s AND name = %s',
            list(leaf),
        )
    as_owner(f'DELETE FROM "{BROKEN}".django_migrations')
    assert department_schemas_behind() == list(SUBDOMAINS)
    return f"{leaf[0]}.{leaf[1]}"


def platform_setup() -> tuple[str, str, CommandError]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("platform_setup", verbosity=1, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue(), failure.value


def assert_all_but_the_broken_one_migrated(
    leaf: str, stdout: str, stderr: str, failure: CommandError
) -> None:
    assert f"1 of 3 department(s) failed to migrate: {BROKEN}." in str(failure)
    assert f"] {BROKEN} FAILED after" in stderr
    # PostgreSQL's own word for it, under the department's name in the summary.
    assert f"  {BROKEN}: ProgrammingError: relation" in stderr
    assert "already exists" in stderr
    for good in SUBDOMAINS[1:]:
        assert f"] {good} migrated (1 migration, " in stdout
    app, name = leaf.split(".")
    for good in SUBDOMAINS[1:]:
        recorded = as_owner(
            f'SELECT 1 FROM "{good}".django_migrations WHERE app = %s AND name = %s', [app, name]
        )
        assert recorded == [(1,)]
    # Only the broken department is still behind; the session's cities were never touched.
    assert department_schemas_behind() == [BROKEN]
    for city in SESSION_CITIES:
        assert city not in stdout + stderr


@override_settings(TENANT_MULTIPROCESSING_MAX_PROCESSES=2)
def test_a_failing_department_stops_no_other_in_parallel(behind: str) -> None:
    cities_before = {city: migration_rows(city) for city in SESSION_CITIES}
    stdout, stderr, failure = platform_setup()
    assert "Migrating 3 department(s) in 2 processes." in stdout
    assert_all_but_the_broken_one_migrated(behind, stdout, stderr, failure)
    assert {city: migration_rows(city) for city in SESSION_CITIES} == cities_before


@override_settings(TENANT_MULTIPROCESSING_MAX_PROCESSES=1)
def test_a_failing_department_stops_no_other_one_after_another(behind: str) -> None:
    stdout, stderr, failure = platform_setup()
    assert "Migrating 3 department(s) one after another." in stdout
    # On the same connection, the departments after the failure still migrate.
    assert f"[1/3] {BROKEN} FAILED" in stderr
    assert "[2/3] scaleb migrated" in stdout
    assert "[3/3] scalec migrated" in stdout
    assert_all_but_the_broken_one_migrated(behind, stdout, stderr, failure)


def test_up_to_date_departments_are_not_migrated_again(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> None:
    stdout = io.StringIO()
    with django_db_blocker.unblock():
        call_command("platform_setup", verbosity=1, stdout=stdout)
    assert "Migrating" not in stdout.getvalue()
    assert "Platform schemas are up to date." in stdout.getvalue()
