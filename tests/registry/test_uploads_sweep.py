"""Abandoned imports (never confirmed) lose their file, checked rows and report a day after the
upload: `manage.py uploads_sweep`, in every department, safe to run again."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.registry.audit import Actor
from portal.registry.models import ImportJob, ImportSite
from portal.registry.services import import_start
from portal.registry.storage import evidence_storage
from tests.registry.test_registry_io import ROW, csv_file, upload

pytestmark = pytest.mark.django_db


def sweep(capture) -> str:
    out = StringIO()
    with capture(execute=True):
        call_command("uploads_sweep", stdout=out)
    return out.getvalue()


def jobs() -> dict[str, ImportJob]:
    with schema_context("concord"):
        return {job.filename: job for job in ImportJob.objects.all()}


def test_abandoned_imports_are_deleted_after_a_day(make_staff, django_capture_on_commit_callbacks):
    admin = make_staff("concord", "administrator")
    storage = evidence_storage()
    upload(admin, csv_file([ROW], name="checked.csv"))
    upload(admin, csv_file([ROW | {"contact_phone": "123"}], name="failed.csv"))
    orphan = storage.save("concord/imports/orphan.csv", ContentFile(b"contact_email\nx@y.org\n"))
    carrollton = make_staff("carrollton", "administrator")
    upload(carrollton, csv_file([ROW | {"latitude": "33.58", "longitude": "-85.08"}]))

    with time_machine.travel(timezone.now() + timedelta(hours=23)):
        assert "concord: 0 abandoned imports deleted" in sweep(django_capture_on_commit_callbacks)
    assert jobs()["checked.csv"].status == "checked"
    assert storage.exists(orphan)

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        # An upload of today, still being checked, keeps its file.
        with schema_context("concord"):
            import_start(actor=Actor.system("test"), filename="new.csv", content=b"address\n")
        output = sweep(django_capture_on_commit_callbacks)
        assert "concord: 2 abandoned imports deleted" in output
        assert "carrollton: 1 abandoned imports deleted" in output
        assert "concord: 0 abandoned imports deleted" in sweep(django_capture_on_commit_callbacks)

    swept = jobs()
    assert swept["checked.csv"].status == "expired"
    assert swept["failed.csv"].status == "failed"
    assert swept["failed.csv"].errors == []  # the report quoted the rows
    assert swept["new.csv"].status == "checking"
    assert storage.exists(swept["new.csv"].stored_name)
    assert not storage.exists(orphan)
    with schema_context("concord"):
        assert ImportSite.objects.count() == 0
    with schema_context("carrollton"):
        assert ImportSite.objects.count() == 0
