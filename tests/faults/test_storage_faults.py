"""Storage failures, for real (issue 16, point 5): the S3-compatible server stopped (a moto
server process of the test's own, killed and started again) and a full disk (a 1 MB tmpfs
mounted for the test, the local file storage pointed at it).

What must hold: an upload that the storage cannot keep (an owner's clip, a registry import
file, a department's logo) fails with a clear message in the user's language (503, never a
500) and leaves no row without a file and no file without a row; uploads work again once the
storage is back, without restarting anything. A clip download whose storage is unreachable
says so on a page of ours (503), and the attempt is in the audit trail (`download_failed`).
"""

from __future__ import annotations

import io
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django_tenants.utils import schema_context

from portal.department.models import FootageClip
from portal.registry.models import AuditEntry, ImportJob
from tenants.models import Branding, Department
from tests.console.test_department_exports import request_export
from tests.console.test_department_onboarding import FORM
from tests.console.test_department_onboarding import png as onboarding_png
from tests.department.test_evidence import (
    answer_link,  # noqa: F401 (a fixture)
    iso_media,
    upload,
)
from tests.faults.harness import (
    MotoProcess,
    SmallDisk,
    small_disk_mount,
    small_disk_unmount,
)
from tests.lifecycle.test_portal_settings_and_terms import form_data, png
from tests.storage.s3 import (
    PRIVATE_BUCKET,
)

pytestmark = pytest.mark.django_db

# A clip too large for what is left on the full disk (and well within a link's limits).
BIG_CLIP = iso_media(b"isom", b"\x00" * 300_000)
SMALL_CLIP = iso_media(b"isom", b"\x01" * 2_000)

SAVE_FAILED_EN = "Your file could not be stored just now: our file storage is not available."
SAVE_FAILED_ES = "No se pudo guardar su archivo en este momento"
OPEN_FAILED_EN = "This file cannot be read just now: our file storage is not available."
OPEN_FAILED_ES = "No se puede leer este archivo en este momento"


# --- A moto server of the test's own, a real process -------------------------------------------


@pytest.fixture
def private_s3(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[MotoProcess]:
    """Both storages on a moto server process of this test's own (never the session's, which
    other tests use), stopped at the end whatever happened. Parametrized indirectly with a
    dict, the storages are built with those settings' variables too."""
    moto = MotoProcess(tmp_path, getattr(request, "param", None))
    moto.start()
    storages = {
        **settings.STORAGES,
        "default": moto.server.storages["default"],
        "evidence": moto.server.storages["evidence"],
    }
    try:
        with override_settings(STORAGES=storages):
            yield moto
    finally:
        moto.stop()


# --- A full disk, for real ---------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A real 1 MB file system (tmpfs), unmounted afterwards. Mounting needs root (CI and the
    development containers run as root); without the permission the test is skipped."""
    root = tmp_path / "disk"
    root.mkdir()
    problem = small_disk_mount(root)
    if problem:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {problem}")
    try:
        yield SmallDisk(root)
    finally:
        small_disk_unmount(root)


def storages_on(root: Path, *aliases: str) -> dict[str, dict[str, Any]]:
    """STORAGES with the named storages' files under `root` (the settings' own backend)."""
    storages = dict(settings.STORAGES)
    for alias in aliases:
        options = {**storages[alias].get("OPTIONS", {}), "location": str(root / alias)}
        if alias == "default":
            options["base_url"] = settings.MEDIA_URL
        storages[alias] = {**storages[alias], "OPTIONS": options}
    return storages


def clips() -> list[FootageClip]:
    with schema_context("concord"):
        return list(FootageClip.objects.all())


def entries(action: str) -> int:
    with schema_context("concord"):
        return AuditEntry.objects.filter(action=action).count()


def refused(response: Any, text: str) -> None:
    """A storage failure as the user sees it: 503 with Retry-After, the message, no trace."""
    assert response.status_code == 503, response.content.decode()[:2000]
    assert response["Retry-After"]
    body = response.content.decode()
    assert text in body
    assert "Traceback" not in body


# --- S3 stopped ----------------------------------------------------------------------------------


def test_a_clip_upload_while_s3_is_down_is_refused_keeps_nothing_and_works_once_it_is_back(
    private_s3: MotoProcess,
    answer_link,  # noqa: F811
):
    _investigator, _incident, alice, url = answer_link
    private_s3.stop()

    refused(upload(alice.client, url, "porch.mp4", SMALL_CLIP), SAVE_FAILED_EN)
    refused(
        upload(alice.client, url, "porch.mp4", SMALL_CLIP, HTTP_ACCEPT_LANGUAGE="es"),
        SAVE_FAILED_ES,
    )
    assert clips() == []

    private_s3.start()
    assert private_s3.stored_keys() == []
    assert upload(alice.client, url, "porch.mp4", SMALL_CLIP).status_code == 302
    (clip,) = clips()
    assert private_s3.stored_keys() == [clip.file.name]


def test_a_registry_import_while_s3_is_down_is_refused_and_keeps_nothing(
    private_s3: MotoProcess, admin
):
    private_s3.stop()
    csv = SimpleUploadedFile("registry.csv", b"address\n1 Union St S\n", content_type="text/csv")
    refused(admin.client.post("/department/import/", {"file": csv}), SAVE_FAILED_EN)
    with schema_context("concord"):
        assert not ImportJob.objects.exists()


def test_a_clip_download_while_s3_is_down_says_so_and_is_audited_as_attempted(
    private_s3: MotoProcess,
    answer_link,  # noqa: F811
):
    investigator, _incident, alice, url = answer_link
    assert upload(alice.client, url, "porch.mp4", SMALL_CLIP).status_code == 302
    (clip,) = clips()
    private_s3.stop()

    page = investigator.client.get(f"/department/clips/{clip.pk}/")
    refused(page, OPEN_FAILED_EN)
    assert 'id="canvass-storage-unavailable"' in page.content.decode()
    refused(
        investigator.client.get(f"/department/clips/{clip.pk}/", HTTP_ACCEPT_LANGUAGE="es"),
        OPEN_FAILED_ES,
    )
    assert entries("download_failed") == 2
    assert entries("download") == 0
    with schema_context("concord"):
        failed = AuditEntry.objects.filter(action="download_failed").first()
    assert failed is not None and failed.case_number == "CPD-88"
    assert f"Clip {clip.pk} sha256 {clip.sha256}" in failed.reason
    assert "unreachable" in failed.reason

    # Back (moto forgets its objects on a restart; real S3 keeps them: put it back as it was).
    private_s3.start()
    private_s3.server.client().put_object(
        Bucket=PRIVATE_BUCKET, Key=clip.file.name, Body=SMALL_CLIP
    )
    download = investigator.client.get(f"/department/clips/{clip.pk}/")
    assert download.status_code == 302
    assert entries("download") == 1
    assert entries("download_failed") == 2


@pytest.mark.parametrize(
    "private_s3", [{"S3_CONNECT_TIMEOUT": "2", "S3_READ_TIMEOUT": "2"}], indirect=True
)
def test_a_hung_s3_server_fails_an_upload_in_seconds_and_it_works_once_it_answers(
    private_s3: MotoProcess,
    answer_link,  # noqa: F811
):
    """SIGSTOP: connections are accepted and nothing answers. The settings' timeouts (set short
    here through the same variables a deployment sets) end the wait; nothing is kept."""
    _investigator, _incident, alice, url = answer_link
    private_s3.freeze()
    try:
        refused(upload(alice.client, url, "porch.mp4", SMALL_CLIP), SAVE_FAILED_EN)
        assert clips() == []
    finally:
        private_s3.thaw()
    assert private_s3.stored_keys() == []
    assert upload(alice.client, url, "porch.mp4", SMALL_CLIP).status_code == 302
    (clip,) = clips()
    assert private_s3.stored_keys() == [clip.file.name]


# --- A full disk ---------------------------------------------------------------------------------


def test_a_clip_upload_on_a_full_disk_is_refused_and_leaves_no_partial_file(
    small_disk: SmallDisk,
    answer_link,  # noqa: F811
):
    _investigator, _incident, alice, url = answer_link
    with override_settings(STORAGES=storages_on(small_disk.root, "evidence")):
        small_disk.fill(leave=64 * 1024)  # room for a part of the clip, not all of it
        refused(upload(alice.client, url, "porch.mp4", BIG_CLIP), SAVE_FAILED_EN)
        refused(
            upload(alice.client, url, "porch.mp4", BIG_CLIP, HTTP_ACCEPT_LANGUAGE="es"),
            SAVE_FAILED_ES,
        )
        assert clips() == []
        assert small_disk.files() == []  # no truncated clip, no temporary file

        small_disk.free()
        assert upload(alice.client, url, "porch.mp4", BIG_CLIP).status_code == 302
        (clip,) = clips()
        assert small_disk.files() == [f"evidence/{clip.file.name}"]
        assert (small_disk.root / "evidence" / clip.file.name).read_bytes() == BIG_CLIP


def test_a_registry_import_on_a_full_disk_is_refused_and_keeps_nothing(
    small_disk: SmallDisk, admin
):
    content = b"address\n" + b"1 Union St S\n" * 30_000
    with override_settings(STORAGES=storages_on(small_disk.root, "evidence")):
        small_disk.fill(leave=64 * 1024)
        csv = SimpleUploadedFile("registry.csv", content, content_type="text/csv")
        refused(admin.client.post("/department/import/", {"file": csv}), SAVE_FAILED_EN)
        with schema_context("concord"):
            assert not ImportJob.objects.exists()
        assert small_disk.files() == []


def test_a_logo_on_a_full_disk_is_refused_and_changes_nothing(small_disk: SmallDisk, admin):
    before = Branding.objects.get(department__schema_name="concord")
    with override_settings(STORAGES=storages_on(small_disk.root, "default")):
        small_disk.fill()
        response = admin.client.post(
            "/department/settings/portal/",
            form_data(display_name="Concord Watch", logo=png()),
            HTTP_ACCEPT_LANGUAGE="es",
        )
        refused(response, SAVE_FAILED_ES)
        branding = Branding.objects.get(department__schema_name="concord")
        assert branding.logo.name == before.logo.name
        assert branding.display_name == before.display_name
        assert small_disk.files() == []


def test_a_clip_download_when_its_disk_is_gone_says_so_and_is_audited_as_attempted(
    small_disk: SmallDisk,
    answer_link,  # noqa: F811
):
    investigator, _incident, alice, url = answer_link
    with override_settings(STORAGES=storages_on(small_disk.root, "evidence")):
        assert upload(alice.client, url, "porch.mp4", SMALL_CLIP).status_code == 302
        (clip,) = clips()
        # The volume goes away (a detached disk, a lost network mount).
        subprocess.run(["umount", "-l", str(small_disk.root)], check=True)
        assert not os.path.exists(small_disk.root / "evidence" / clip.file.name)
        refused(investigator.client.get(f"/department/clips/{clip.pk}/"), OPEN_FAILED_EN)
    assert entries("download_failed") == 1
    assert entries("download") == 0


def test_a_department_provisioned_with_a_logo_on_a_full_disk_is_refused_and_nothing_is_made(
    small_disk: SmallDisk, platform_client, vendor, sign_in
):
    sign_in(platform_client, vendor)
    with override_settings(STORAGES=storages_on(small_disk.root, "default")):
        small_disk.fill()
        response = platform_client.post(
            "/console/departments/new/",
            FORM | {"logo": SimpleUploadedFile("s.png", onboarding_png().read())},
        )
        refused(response, SAVE_FAILED_EN)
        assert not Department.objects.filter(schema_name="springfield").exists()
        assert small_disk.files() == []

        small_disk.free()
        response = platform_client.post(
            "/console/departments/new/",
            FORM | {"logo": SimpleUploadedFile("s.png", onboarding_png().read())},
        )
        assert response.status_code == 302
        logo = Branding.objects.get(department__schema_name="springfield").logo
        assert small_disk.files() == [f"default/{logo.name}"]


def test_an_archive_download_when_its_disk_is_gone_says_so_on_the_exports_page(
    small_disk: SmallDisk, platform_client, vendor, sign_in
):
    sign_in(platform_client, vendor)
    concord = Department.objects.get(schema_name="concord")
    with override_settings(STORAGES=storages_on(small_disk.root, "evidence")):
        export = request_export(platform_client, concord)
        assert export.status == "ready", export.error
        small_disk_unmount(small_disk.root)
        download = platform_client.get(
            f"/console/departments/{concord.pk}/exports/{export.pk}/download/", follow=True
        )
    assert download.status_code == 200
    assert download.redirect_chain[-1][0] == f"/console/departments/{concord.pk}/exports/"
    assert OPEN_FAILED_EN in download.content.decode()


def test_the_footage_sweep_deletes_old_files_no_clip_names_and_nothing_else(
    tmp_path: Path,
    answer_link,  # noqa: F811
):
    """What an upload leaves when its row fails and the storage fails the cleanup too (logged as
    storage_orphan) goes at the next hourly sweep once an hour old; a file of an upload still
    under way (younger) and every clip's file stay."""
    _investigator, _incident, alice, url = answer_link
    with override_settings(STORAGES=storages_on(tmp_path, "evidence")):
        assert upload(alice.client, url, "porch.mp4", SMALL_CLIP).status_code == 302
        (clip,) = clips()
        folder = tmp_path / "evidence" / "concord" / "footage" / "9"
        folder.mkdir(parents=True)
        old, young = folder / "old.mp4", folder / "young.mp4"
        old.write_bytes(SMALL_CLIP)
        young.write_bytes(SMALL_CLIP)
        two_hours_ago = time.time() - 2 * 3600
        os.utime(old, (two_hours_ago, two_hours_ago))
        os.utime(tmp_path / "evidence" / clip.file.name, (two_hours_ago, two_hours_ago))
        output = io.StringIO()
        call_command("footage_sweep", stdout=output)
        assert "concord: 1 orphan footage files deleted" in output.getvalue()
        assert not old.exists() and young.exists()
        assert (tmp_path / "evidence" / clip.file.name).exists()
