"""What a killed worker leaves when its task does not come back (the broker restarted empty): the
platform's sweeps end it. An export whose builder died is failed with a message, its part
removed, and can be requested again; a schema a killed provisioning made is dropped, and the mark
on a live department's schema is only cleared. (tests/faults/test_worker_killed.py kills real
workers; these run the sweeps on what such a kill leaves.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from console import exports
from console.models import DepartmentExport
from tenants.database import database_owner
from tenants.models import PROVISIONING_MARK, Department
from tenants.services import provisioning_leftovers_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_root(tmp_path: Path) -> Iterator[Path]:
    evidence = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path), "base_url": None},
    }
    with override_settings(
        PRIVATE_ROOT=tmp_path, STORAGES={**settings.STORAGES, "evidence": evidence}
    ):
        yield tmp_path


def abandoned_export(private_root: Path) -> tuple[DepartmentExport, Path]:
    """An export a killed worker was building long ago, and the part of its archive it wrote."""
    concord = Department.objects.get(schema_name="concord")
    export, _created = exports.department_export_request(actor=AnonymousUser(), department=concord)
    started = timezone.now() - timedelta(seconds=settings.TASK_REDELIVERY_SECONDS + 60)
    DepartmentExport.objects.filter(pk=export.pk).update(
        status=DepartmentExport.Status.RUNNING, started_at=started
    )
    part = private_root / "concord" / "exports" / f"{export.pk}-20260101-000000.zip"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PK\x03\x04 half an archive")
    return export, part


def test_an_export_whose_worker_died_and_whose_task_was_lost_is_failed_and_can_be_asked_again(
    private_root: Path,
) -> None:
    export, part = abandoned_export(private_root)
    other = private_root / "concord" / "exports" / "999999-20260101-000000.zip"
    other.write_bytes(b"another export's archive")
    exports.department_exports_sweep()
    export.refresh_from_db()
    assert export.status == "failed"
    assert "Request a new export" in export.error and export.file_name == ""
    assert not part.exists() and other.exists()
    again, created = exports.department_export_request(
        actor=AnonymousUser(), department=export.department
    )
    assert created and again.status == "pending"


def test_an_export_still_being_built_by_a_live_worker_is_left_alone(private_root: Path) -> None:
    export, part = abandoned_export(private_root)
    parameters = connection.get_connection_params()
    key = f"canvass-export-build:{export.pk}"
    with psycopg.connect(**parameters, autocommit=True) as builder:
        builder.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [key])
        exports.department_exports_sweep()
        assert exports.department_export_build(export_id=export.pk) is not None
    export.refresh_from_db()
    assert export.status == "running" and part.exists()


def schema_comment(name: str) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s",
            [name],
        )
        row = cursor.fetchone()
    return row[0] if row else "(no schema)"


def test_the_sweep_drops_a_half_made_schema_and_only_unmarks_a_live_one() -> None:
    with database_owner(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE SCHEMA killed_sweep; CREATE TABLE killed_sweep.t (id int); "
            f"COMMENT ON SCHEMA killed_sweep IS '{PROVISIONING_MARK}'; "
            f"COMMENT ON SCHEMA concord IS '{PROVISIONING_MARK}'"
        )
    try:
        assert sorted(provisioning_leftovers_sweep()) == ["killed_sweep"]
        assert schema_comment("killed_sweep") == "(no schema)"
        assert schema_comment("concord") is None
        assert provisioning_leftovers_sweep() == []
    finally:
        with database_owner(), connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA IF EXISTS killed_sweep CASCADE")
            cursor.execute("COMMENT ON SCHEMA concord IS NULL")
