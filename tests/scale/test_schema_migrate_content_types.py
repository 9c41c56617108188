"""Migrating department schemas leaves in each one every content type and permission that
Django's post_migrate receivers create (contenttypes and auth live in every department's
schema), although schema_migrate sends post_migrate only where something is missing; any other
post_migrate receiver still hears every schema."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db.migrations.loader import MigrationLoader
from django.db.models.signals import post_migrate
from django.test import override_settings

from tenants.database import database_owner
from tenants.db import tenant_connection
from tenants.schema_migrations import department_schemas_migrate, schema_migrations_apply
from tests.scale.conftest import as_owner

ROOT = Path(__file__).resolve().parents[2]
SUBDOMAINS = ("releasea", "releaseb")

MIGRATION = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("registry", {previous!r})]
    operations = {operations}
"""
NEW_MODEL = """[
        migrations.CreateModel(
            name="ReleaseNote",
            fields=[("id", models.BigAutoField(primary_key=True, serialize=False))],
            options={"permissions": [("publish_releasenote", "Can publish release notes")]},
        )
    ]"""
STATEMENT_ONLY = """[migrations.RunSQL("CREATE INDEX release_site_kind ON registry_site (kind)")]"""


@pytest.fixture
def release(
    committed_departments: Callable[..., None], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[..., None]]:
    """release(operations) puts one more registry migration on disk (in a copy of the
    registry's migrations, through MIGRATION_MODULES) for the two throwaway departments."""
    committed_departments(*SUBDOMAINS)
    package = f"release_migrations_{request.node.name.replace('[', '_').replace(']', '')}"
    shutil.copytree(ROOT / "portal" / "registry" / "migrations", tmp_path / package)
    latest = max(
        name
        for app, name in MigrationLoader(None, ignore_no_migrations=True).disk_migrations
        if app == "registry"
    )
    sys.path.insert(0, str(tmp_path))

    def add(operations: str, name: str = "9001_release") -> None:
        previous = latest if name == "9001_release" else "9001_release"
        (tmp_path / package / f"{name}.py").write_text(
            MIGRATION.format(previous=previous, operations=operations)
        )

    try:
        with override_settings(MIGRATION_MODULES={"registry": package}):
            yield add
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.startswith(package)]:
            del sys.modules[name]
        ContentType.objects.clear_cache()


def permissions(schema: str, model: str) -> list[str]:
    return [
        str(codename)
        for (codename,) in as_owner(
            f'SELECT p.codename FROM "{schema}".auth_permission p '
            f'JOIN "{schema}".django_content_type t ON t.id = p.content_type_id '
            "WHERE t.app_label = 'registry' AND t.model = %s ORDER BY p.codename",
            [model],
        )
    ]


def migrate(processes: int) -> None:
    with database_owner():
        results = department_schemas_migrate(schemas=SUBDOMAINS, processes=processes)
        assert tenant_connection.schema_name == "public"
    assert sorted((result.schema_name, result.error, result.applied) for result in results) == [
        (schema, "", 1) for schema in sorted(SUBDOMAINS)
    ]


@pytest.mark.parametrize("processes", [1, 2])
def test_a_new_model_has_its_content_type_and_permissions_in_every_department(
    release: Callable[..., None], processes: int
) -> None:
    for schema in SUBDOMAINS:
        assert permissions(schema, "releasenote") == []
    release(NEW_MODEL)
    migrate(processes)
    for schema in SUBDOMAINS:
        assert permissions(schema, "releasenote") == [
            "add_releasenote",
            "change_releasenote",
            "delete_releasenote",
            "publish_releasenote",
            "view_releasenote",
        ]
        assert as_owner(f"SELECT to_regclass('\"{schema}\".registry_releasenote')") != [(None,)]


def test_a_renamed_model_keeps_its_content_type_in_every_department(
    release: Callable[..., None],
) -> None:
    """contenttypes' pre_migrate receiver adds a RenameContentType after each RenameModel of the
    plan: every department gets it, although they share the planned migrations."""
    release(NEW_MODEL)
    migrate(1)
    before = {schema: content_type_id(schema, "releasenote") for schema in SUBDOMAINS}
    release(
        '[migrations.RenameModel(old_name="ReleaseNote", new_name="ReleaseNotice")]',
        name="9002_release_renamed",
    )
    migrate(1)
    for schema in SUBDOMAINS:
        assert content_type_id(schema, "releasenote") is None
        assert content_type_id(schema, "releasenotice") == before[schema] is not None


def content_type_id(schema: str, model: str) -> object:
    rows = as_owner(
        f'SELECT id FROM "{schema}".django_content_type WHERE app_label = %s AND model = %s',
        ["registry", model],
    )
    return rows[0][0] if rows else None


def test_a_permission_missing_from_one_department_is_made_again(
    release: Callable[..., None],
) -> None:
    """Where a department lacks a permission (lost, or never made), a release that changes no
    model still runs the receivers there, as Django's migrate would."""
    as_owner(
        'DELETE FROM "releaseb".auth_permission WHERE codename = %s AND content_type_id = '
        "(SELECT id FROM \"releaseb\".django_content_type WHERE app_label = 'registry' "
        "AND model = 'site')",
        ["view_site"],
    )
    assert "view_site" not in permissions("releaseb", "site")
    release(STATEMENT_ONLY)
    migrate(1)
    for schema in SUBDOMAINS:
        assert permissions(schema, "site") == [
            "add_site",
            "change_site",
            "delete_site",
            "view_site",
        ]


def test_any_other_post_migrate_receiver_hears_every_department(
    release: Callable[..., None],
) -> None:
    heard: list[str] = []

    def receiver(**kwargs: Any) -> None:
        if kwargs["app_config"].label == "registry":
            heard.append(tenant_connection.schema_name)

    post_migrate.connect(receiver, dispatch_uid="test_schema_migrate_content_types")
    try:
        release(STATEMENT_ONLY)
        migrate(1)
    finally:
        post_migrate.disconnect(dispatch_uid="test_schema_migrate_content_types")
    assert heard == list(SUBDOMAINS)


def test_a_schema_with_nothing_to_apply_is_left_as_it_was_and_the_connection_on_public(
    committed_departments: Callable[..., None],
) -> None:
    committed_departments(SUBDOMAINS[0])
    before = as_owner(f'SELECT count(*) FROM "{SUBDOMAINS[0]}".django_migrations')
    stdout = io.StringIO()
    with database_owner():
        assert schema_migrations_apply(SUBDOMAINS[0], verbosity=1, stdout=stdout) == 0
        assert tenant_connection.schema_name == "public"
    assert as_owner(f'SELECT count(*) FROM "{SUBDOMAINS[0]}".django_migrations') == before
    assert stdout.getvalue() == ""
