"""A department's whole archive from the vendor console: built in the background into private
storage under the department's prefix, holding its tables (JSON and CSV) and files and nothing
of another city's (the same ids in both on purpose), never a secret; requests and downloads
recorded in the platform audit log; failures leave no file; old archives are swept."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.urls import set_urlconf
from django.utils import timezone
from django_tenants.utils import schema_context

from console import exports
from console.exports import department_exports_sweep, tenant_models
from console.models import DepartmentExport, PlatformAuditEntry, VendorStaff
from tenants.models import Department
from tests.conftest import TOTP_SECRET
from tests.department.test_evidence import case_with_clips, clip_ids_from, iso_media
from tests.storage.s3 import PRIVATE_BUCKET, S3Server

pytestmark = pytest.mark.django_db

CONCORD_CLIP = iso_media(b"isom", b"concord's porch")
CARROLLTON_CLIP = iso_media(b"isom", b"carrollton's porch")


@pytest.fixture(autouse=True)
def private_root(tmp_path: Path) -> Iterator[Path]:
    """Each test's private files in a folder of its own, so that a file left behind shows."""
    evidence = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path), "base_url": None},
    }
    with override_settings(
        PRIVATE_ROOT=tmp_path, STORAGES={**settings.STORAGES, "evidence": evidence}
    ):
        yield tmp_path


@pytest.fixture
def console(platform_client: Client, vendor, sign_in) -> Client:
    """The demo's vendor staff member (an administrator), signed in with a second factor."""
    sign_in(platform_client, vendor)
    return platform_client


def vendor_staff(role: str) -> Client:
    from allauth.mfa.totp.internal.auth import TOTP

    with schema_context("public"):
        user = get_user_model().objects.create_user(
            username=f"{role}@canvass.example.org",
            email=f"{role}@canvass.example.org",
            is_staff=True,
        )
        VendorStaff.objects.create(user=user, role=role)
        TOTP.activate(user, TOTP_SECRET)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def department(schema_name: str) -> Department:
    return Department.objects.get(schema_name=schema_name)


@pytest.fixture
def two_cities() -> tuple[Department, Department]:
    """Concord and Carrollton each with incident 777 and clip 4343: the same ids on purpose."""
    clip_ids_from(4343)
    case_with_clips("concord", incident_pk=777, contents=[CONCORD_CLIP])
    case_with_clips("carrollton", incident_pk=777, contents=[CARROLLTON_CLIP])
    return department("concord"), department("carrollton")


def request_export(console: Client, city: Department) -> DepartmentExport:
    response = console.post(f"/console/departments/{city.pk}/exports/")
    assert response.status_code == 302
    return DepartmentExport.objects.filter(department=city).latest("pk")


def archive_of(console: Client, export: DepartmentExport) -> zipfile.ZipFile:
    download = console.get(
        f"/console/departments/{export.department_id}/exports/{export.pk}/download/"
    )
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{export.download_name}"'
    assert "no-store" in download["Cache-Control"]
    return zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))


def every_text(archive: zipfile.ZipFile) -> str:
    return "\n".join(
        archive.read(name).decode("utf-8", "replace")
        for name in archive.namelist()
        if not name.startswith("files/")
    )


# --- The archive ------------------------------------------------------------------------------


def test_concords_archive_holds_its_tables_and_files_and_nothing_of_carrollton(
    console, two_cities, private_root
):
    concord, _carrollton = two_cities
    export = request_export(console, concord)
    assert export.status == "ready", export.error
    assert export.file_name.startswith("concord/exports/") and export.file_name.endswith(".zip")
    assert (private_root / export.file_name).stat().st_size == export.size

    archive = archive_of(console, export)
    names = set(archive.namelist())
    for model in tenant_models():
        table = model._meta.db_table
        if table != "django_session":
            assert {f"tables/{table}.json", f"tables/{table}.csv"} <= names, table
    incidents = json.loads(archive.read("tables/department_incident.json"))
    assert [incident["case_number"] for incident in incidents] == ["concord-1"]
    assert incidents[0]["id"] == 777
    clips = list(
        csv.reader(io.StringIO(archive.read("tables/department_footageclip.csv").decode()))
    )
    assert clips[0][:2] == ["id", "incident_id"] and "sha256" in clips[0]
    assert [row[0] for row in clips[1:]] == ["4343"]
    platform = json.loads(archive.read("platform/tenants_department.json"))
    assert [row["schema_name"] for row in platform] == ["concord"]

    (clip_file,) = [name for name in names if name.startswith("files/footage/777/")]
    assert archive.read(clip_file) == CONCORD_CLIP
    assert any(name.startswith("files/logo/") for name in names)
    assert CARROLLTON_CLIP not in b"".join(archive.read(name) for name in names)
    text = every_text(archive)
    assert "owner@concord.example.org" in text
    assert "carrollton-1" not in text and "owner@carrollton.example.org" not in text
    readme = archive.read("README.txt").decode()
    assert "Concord Police Department" in readme and "department_incident: 1" in readme


def test_no_secret_is_in_an_archive_and_the_readme_says_what_was_left_out(console, two_cities):
    concord, _carrollton = two_cities
    with schema_context("concord"):
        user = get_user_model().objects.get(email="owner@concord.example.org")
        user.set_password("a-long-passphrase")
        user.save()
        password_hash = user.password
        from allauth.mfa.models import Authenticator
        from allauth.mfa.totp.internal.auth import TOTP

        TOTP.activate(user, TOTP_SECRET)

        secrets = [str(value) for value in Authenticator.objects.values_list("data", flat=True)]
    assert secrets
    archive = archive_of(console, request_export(console, concord))
    text = every_text(archive)
    assert password_hash not in text
    assert all(secret not in text for secret in secrets) and TOTP_SECRET not in text
    assert not any(name.startswith("tables/django_session") for name in archive.namelist())
    users = json.loads(archive.read("tables/auth_user.json"))
    assert users and all("password" not in row for row in users)
    assert "password" not in archive.read("tables/auth_user.csv").decode().splitlines()[0]
    device_header = archive.read("tables/liveview_device.csv").decode().splitlines()[0]
    assert "credential_hash" not in device_header and "credential_id" in device_header
    readme = archive.read("README.txt").decode()
    for left_out in (
        "table django_session",
        "auth_user.password",
        "mfa_authenticator.data",
        "liveview_device.credential_hash",
        "liveview_claimcode.code_hash",
        "account_emailconfirmation.key",
    ):
        assert left_out in readme


SECRET_NAMES = re.compile(r"password|secret|hash|token|key|credential|session|code")
# Columns whose names sound secret and are not: integrity and public identifiers.
NOT_SECRET = {
    ("registry_auditentry", "hash"),
    ("registry_auditentry", "prev_hash"),
    # The chain hash a council report's audit check ended on (portal.council_reports).
    ("council_reports_chaincheck", "last_entry_hash"),
    # The number of the vendor support session an entry was made in (console.SupportSession).
    ("registry_auditentry", "support_session_id"),
    ("liveview_channel", "key"),
    ("liveview_device", "credential_id"),
    ("liveview_device", "credential_issued_at"),
    ("django_content_type", "app_label"),
    ("auth_permission", "codename"),
    # An area notice's confirmation key: it only makes a double click send once, and grants
    # nothing (portal.department.services.notification_send).
    ("department_notification", "send_key"),
}


def test_every_column_that_sounds_secret_is_left_out_or_known_harmless():
    """A new column named like a secret fails here until it is classified."""
    unclassified = []
    for model in tenant_models():
        table = model._meta.db_table
        if table in exports.EXCLUDED_TABLES:
            continue
        for column in model._meta.concrete_fields:
            key = (table, column.column)
            if (
                SECRET_NAMES.search(column.column)
                and key not in exports.EXCLUDED_COLUMNS
                and key not in NOT_SECRET
                and not column.is_relation
            ):
                unclassified.append(key)
    assert unclassified == []


# --- Requests, downloads, the audit log -------------------------------------------------------


def test_each_request_and_download_is_recorded(console, two_cities):
    concord, _carrollton = two_cities
    export = request_export(console, concord)
    archive_of(console, export)
    entries = PlatformAuditEntry.objects.filter(department=concord).order_by("pk")
    assert [(entry.action, entry.detail["export"]) for entry in entries] == [
        ("department_export", export.pk),
        ("department_export_download", export.pk),
    ]
    assert {entry.actor_email for entry in entries} == {"vendor@canvass.example.org"}


def test_a_second_submit_while_one_is_being_built_starts_nothing(console, two_cities):
    concord, _carrollton = two_cities
    waiting, created = exports.department_export_request(actor=_vendor_user(), department=concord)
    assert created
    response = console.post(f"/console/departments/{concord.pk}/exports/", follow=True)
    assert "is already being built" in response.content.decode()
    again, created = exports.department_export_request(actor=_vendor_user(), department=concord)
    assert (again, created) == (waiting, False)
    assert DepartmentExport.objects.filter(department=concord).count() == 1
    assert PlatformAuditEntry.objects.filter(action="department_export").count() == 1
    # Another city's export is another matter.
    assert request_export(console, department("carrollton")).status == "ready"


def _vendor_user():
    from tenants.demo import VENDOR_EMAIL

    return get_user_model().objects.get(email=VENDOR_EMAIL)


def test_an_archive_is_downloaded_only_from_its_own_department_and_when_ready(console, two_cities):
    concord, carrollton = two_cities
    export = request_export(console, concord)
    crossing = console.get(f"/console/departments/{carrollton.pk}/exports/{export.pk}/download/")
    assert crossing.status_code == 404
    DepartmentExport.objects.filter(pk=export.pk).update(status="failed")
    failed = console.get(f"/console/departments/{concord.pk}/exports/{export.pk}/download/")
    assert failed.status_code == 404
    assert not PlatformAuditEntry.objects.filter(action="department_export_download").exists()


@pytest.mark.parametrize("role", ["support", "billing"])
def test_vendor_staff_whose_role_may_not_export_are_refused(two_cities, role):
    concord, _carrollton = two_cities
    client = vendor_staff(role)
    assert client.post(f"/console/departments/{concord.pk}/exports/").status_code == 403
    assert client.get(f"/console/departments/{concord.pk}/exports/").status_code == 403
    assert not DepartmentExport.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(platform_client, two_cities):
    concord, _carrollton = two_cities
    response = platform_client.post(f"/console/departments/{concord.pk}/exports/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- Failures and departments that are gone ---------------------------------------------------


def test_a_failure_midway_marks_the_export_failed_and_leaves_no_file(
    console, two_cities, private_root, monkeypatch
):
    concord, _carrollton = two_cities

    def unreadable(*args: object, **kwargs: object) -> None:
        raise OSError("the disk holding the clips is unreadable")

    monkeypatch.setattr(exports, "_file_copy", unreadable)
    export = request_export(console, concord)
    assert export.status == "failed"
    assert "the disk holding the clips is unreadable" in export.error
    assert export.file_name == "" and list(private_root.rglob("*.zip")) == []
    page = console.get(f"/console/departments/{concord.pk}/exports/").content.decode()
    assert "the disk holding the clips is unreadable" in page and "Download" not in page


def test_a_storage_failure_when_saving_leaves_no_file(console, two_cities, private_root):
    concord, _carrollton = two_cities
    (private_root / "concord").mkdir(exist_ok=True)
    (private_root / "concord" / "exports").write_bytes(b"not a folder")
    export = request_export(console, concord)
    assert export.status == "failed" and export.error.startswith("The archive could not be built")
    assert list(private_root.rglob("*.zip")) == []


def test_a_deleted_departments_pending_export_is_skipped_with_a_message(two_cities):
    concord, _carrollton = two_cities
    export, _created = exports.department_export_request(actor=_vendor_user(), department=concord)
    # What deleting the department does to the row (SET_NULL; its name and schema stay).
    DepartmentExport.objects.filter(pk=export.pk).update(department=None)
    built = exports.department_export_build(export_id=export.pk)
    assert built is not None and built.status == "failed"
    assert built.error == (
        "The department Concord Police Department (concord) was deleted before its export "
        "was built; nothing was exported."
    )
    assert exports.department_export_build(export_id=123456) is None


def test_an_export_is_built_once_however_often_its_job_runs(console, two_cities, private_root):
    concord, _carrollton = two_cities
    export = request_export(console, concord)
    assert exports.department_export_build(export_id=export.pk).file_name == export.file_name
    assert len(list(private_root.rglob("*.zip"))) == 1


# --- The panel, the sweep, object storage -----------------------------------------------------


def test_the_panel_renders_with_only_the_department_and_the_request(console, two_cities):
    concord, _carrollton = two_cities
    export = request_export(console, concord)
    request = RequestFactory().get("/console/", HTTP_HOST="localhost")
    request.user = _vendor_user()

    def panel() -> str:
        set_urlconf("canvass.urls_public")  # as in a request to the platform site
        try:
            return render_to_string(
                "console/department_export_panel.html", {"department": concord}, request=request
            )
        finally:
            set_urlconf(None)

    html = panel()
    assert "Export everything" in html and 'name="csrfmiddlewaretoken"' in html
    assert f"/console/departments/{concord.pk}/exports/{export.pk}/download/" in html
    request.user = get_user_model()(username="nobody", is_staff=True)
    html = panel()
    assert "Export everything" not in html and "/download/" not in html


def test_the_sweep_removes_old_archives_and_ends_builds_a_dead_worker_left(
    console, two_cities, private_root, django_capture_on_commit_callbacks
):
    concord, carrollton = two_cities
    old = request_export(console, concord)
    old_name = old.file_name
    assert (private_root / old_name).exists()
    recent = request_export(console, carrollton)
    DepartmentExport.objects.filter(pk=old.pk).update(
        finished_at=timezone.now() - timedelta(days=settings.DEPARTMENT_EXPORT_KEEP_DAYS, hours=1)
    )
    stuck, _created = exports.department_export_request(actor=_vendor_user(), department=concord)
    DepartmentExport.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - timedelta(hours=7)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert department_exports_sweep() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    stuck.refresh_from_db()
    assert (old.status, old.file_name) == ("expired", "")
    assert not (private_root / old_name).exists()
    assert recent.status == "ready" and (private_root / recent.file_name).exists()
    assert stuck.status == "failed" and "did not finish" in stuck.error
    assert department_exports_sweep() == 0


def test_on_s3_the_archive_is_private_and_handed_out_signed(
    console, s3_storages: S3Server, two_cities
):
    concord, _carrollton = two_cities
    export = request_export(console, concord)
    assert export.status == "ready", export.error
    keys = s3_storages.keys(PRIVATE_BUCKET)
    assert export.file_name in keys and export.file_name.startswith("concord/exports/")
    assert len([key for key in keys if "/footage/777/" in key]) == 2
    tags = s3_storages.client().get_object_tagging(Bucket=PRIVATE_BUCKET, Key=export.file_name)
    assert tags["TagSet"] == [{"Key": "canvass-kind", "Value": "exports"}]
    try:
        urlopen(s3_storages.url(PRIVATE_BUCKET, export.file_name), timeout=10)
        raise AssertionError("an unsigned request was answered")
    except HTTPError as error:
        assert error.code == 403
    download = console.get(f"/console/departments/{concord.pk}/exports/{export.pk}/download/")
    assert download.status_code == 302
    with urlopen(download["Location"], timeout=10) as fetched:
        archive = zipfile.ZipFile(io.BytesIO(fetched.read()))
    (clip,) = [name for name in archive.namelist() if name.startswith("files/footage/")]
    assert archive.read(clip) == CONCORD_CLIP
    assert PlatformAuditEntry.objects.filter(action="department_export_download").count() == 1
