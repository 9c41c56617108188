"""With STORAGE_BACKEND=s3 (a local moto server): logos are public in their bucket, every other
file is private under its city's prefix, handed out only as a short-lived signed URL by an
audited view, never for another city; a failure halfway leaves neither a row nor an object."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
import time_machine
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import FootageClip, NotificationRecipient
from portal.department.services import clip_upload
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, ImportJob
from portal.registry.services import import_start
from tenants.models import Branding, Program
from tenants.storage import StorageUnavailable
from tests.console.test_department_onboarding import FORM, png
from tests.department.test_evidence import (
    MP4,
    case_with_clips,
    clip_ids_from,
    iso_media,
    upload,
)
from tests.storage.s3 import PRIVATE_BUCKET, PUBLIC_BUCKET, S3Server

pytestmark = pytest.mark.django_db


def fetch(url: str) -> tuple[int, bytes]:
    """An anonymous GET over HTTP (loopback only: the moto server)."""
    try:
        with urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except HTTPError as error:
        return error.code, error.read()


# --- Logos: public ----------------------------------------------------------------------------


def test_a_logo_uploaded_in_the_console_is_public_in_its_bucket(
    s3_storages: S3Server, platform_client, vendor, sign_in, host_client
):
    sign_in(platform_client, vendor)
    logo_bytes = png().read()
    created = platform_client.post(
        "/console/departments/new/",
        FORM | {"logo": SimpleUploadedFile("s.png", logo_bytes, content_type="image/png")},
    )
    assert created.status_code == 302, created.content.decode()[:2000]
    logo = Branding.objects.get(department__schema_name="springfield").logo
    assert logo.name == "logos/springfield/logo.png"
    assert s3_storages.keys(PUBLIC_BUCKET) == ["logos/springfield/logo.png"]
    assert s3_storages.keys(PRIVATE_BUCKET) == []

    page = host_client("springfield.localhost").get("/").content.decode()
    src = re.search(r'<img class="brand__logo" src="([^"]+)"', page).group(1)
    assert src == s3_storages.url(PUBLIC_BUCKET, "logos/springfield/logo.png")
    assert "Signature" not in src
    status, body = fetch(src)
    assert status == 200 and body == logo_bytes


def test_only_the_logos_folder_of_the_public_bucket_is_public(s3_storages: S3Server):
    s3_storages.client().put_object(Bucket=PUBLIC_BUCKET, Key="notes/readme.txt", Body=b"x")
    assert fetch(s3_storages.url(PUBLIC_BUCKET, "notes/readme.txt"))[0] == 403


# --- Private files: not without a signature, through the audited view, for a minute ----------


def test_a_clip_is_private_and_handed_out_signed_for_a_minute_by_the_audited_view(
    s3_storages: S3Server, answer_link
):
    investigator, _incident, alice, url = answer_link
    assert upload(alice.client, url, "porch.mp4", MP4).status_code == 302
    with schema_context("concord"):
        clip = FootageClip.objects.get()
    assert s3_storages.keys(PRIVATE_BUCKET) == [clip.file.name]
    assert clip.file.name.startswith("concord/footage/")

    status, _body = fetch(s3_storages.url(PRIVATE_BUCKET, clip.file.name))
    assert status == 403
    with schema_context("concord"):
        assert not AuditEntry.objects.filter(action="download").exists()

    download = investigator.client.get(f"/department/clips/{clip.pk}/")
    assert download.status_code == 302
    signed = download["Location"]
    with schema_context("concord"):
        assert AuditEntry.objects.filter(action="download").count() == 1
    assert fetch(signed) == (200, MP4)
    forged = re.sub(r"X-Amz-Signature=[0-9a-f]{4}", "X-Amz-Signature=0000", signed)
    assert fetch(forged)[0] == 403
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        status, body = fetch(signed)
    assert status == 403 and b"Request has expired" in body


def test_an_import_file_is_private_under_its_citys_prefix(s3_storages: S3Server):
    with schema_context("carrollton"):
        job = import_start(actor=Actor.system("test"), filename="r.csv", content=b"address\n")
    assert job.stored_name.startswith("carrollton/imports/")
    assert s3_storages.keys(PRIVATE_BUCKET) == [job.stored_name]
    assert fetch(s3_storages.url(PRIVATE_BUCKET, job.stored_name))[0] == 403


def test_private_objects_carry_their_kind_for_the_buckets_lifecycle_rules(
    s3_storages: S3Server, answer_link
):
    _investigator, _incident, alice, url = answer_link
    upload(alice.client, url, "porch.mp4", MP4)
    with schema_context("concord"):
        import_start(actor=Actor.system("test"), filename="r.csv", content=b"address\n")
    client = s3_storages.client()
    kinds = {
        key.split("/")[1]: client.get_object_tagging(Bucket=PRIVATE_BUCKET, Key=key)["TagSet"]
        for key in s3_storages.keys(PRIVATE_BUCKET)
    }
    assert kinds == {
        "footage": [{"Key": "canvass-kind", "Value": "footage"}],
        "imports": [{"Key": "canvass-kind", "Value": "imports"}],
    }
    rules = client.get_bucket_lifecycle_configuration(Bucket=PRIVATE_BUCKET)["Rules"]
    expiring = {
        rule["Filter"].get("Tag", {}).get("Value") for rule in rules if "Expiration" in rule
    }
    assert expiring == {"exports", "imports"}  # never footage: evidence stays with its case


# --- Two cities, the same ids -----------------------------------------------------------------


def test_the_same_clip_ids_in_two_cities_are_two_objects_each_served_to_its_own_city(
    s3_storages: S3Server, make_staff
):
    clip_ids_from(5151)
    concord_bytes, carrollton_bytes = iso_media(b"isom", b"concord"), iso_media(b"isom", b"carr")
    case_with_clips("concord", incident_pk=31, contents=[concord_bytes])
    case_with_clips("carrollton", incident_pk=31, contents=[carrollton_bytes])
    keys = s3_storages.keys(PRIVATE_BUCKET)
    assert len(keys) == 2
    assert {key.split("/footage/31/")[0] for key in keys} == {"concord", "carrollton"}

    for schema_name, expected in (("concord", concord_bytes), ("carrollton", carrollton_bytes)):
        staff = make_staff(schema_name, "investigator")
        download = staff.client.get("/department/clips/5151/")
        assert download.status_code == 302
        assert f"/{PRIVATE_BUCKET}/{schema_name}/footage/31/" in download["Location"]
        assert fetch(download["Location"]) == (200, expected)


def test_a_row_naming_another_citys_file_is_never_served(s3_storages: S3Server, make_staff):
    clip_ids_from(6161)
    case_with_clips("concord", incident_pk=41, contents=[iso_media(b"isom", b"concord")])
    case_with_clips("carrollton", incident_pk=41, contents=[iso_media(b"isom", b"carr")])
    with schema_context("concord"):
        concord_name = FootageClip.objects.get(pk=6161).file.name
    with schema_context("carrollton"):
        FootageClip.objects.filter(pk=6161).update(file=concord_name)
    carrollton = make_staff("carrollton", "investigator")
    assert carrollton.client.get("/department/clips/6161/").status_code == 404
    with schema_context("carrollton"):
        assert not AuditEntry.objects.filter(action="download").exists()


# --- Nothing half-written ---------------------------------------------------------------------


def test_a_storage_error_during_a_clip_upload_leaves_no_row(s3_storages: S3Server, answer_link):
    _investigator, _incident, _alice, _url = answer_link
    broken = {
        **settings.STORAGES["evidence"],
        "OPTIONS": {**settings.STORAGES["evidence"]["OPTIONS"], "bucket_name": "no-such-bucket"},
    }
    with (
        override_settings(STORAGES={**settings.STORAGES, "evidence": broken}),
        schema_context("concord"),
    ):
        recipient = NotificationRecipient.objects.get(answer="has_footage")
        with pytest.raises(StorageUnavailable) as failure:
            clip_upload(
                recipient=recipient,
                upload=SimpleUploadedFile("porch.mp4", MP4),
                program=Program.objects.get(department__schema_name="concord"),
                ip_address=None,
            )
        assert isinstance(failure.value.__cause__, ClientError)
        assert "NoSuchBucket" in str(failure.value.__cause__)
        assert not FootageClip.objects.exists()
    assert s3_storages.keys(PRIVATE_BUCKET) == []


def test_a_database_error_after_an_upload_leaves_no_object(
    s3_storages: S3Server, answer_link, monkeypatch
):
    _investigator, _incident, _alice, _url = answer_link

    def refuse(*args: object, **kwargs: object) -> None:
        raise DatabaseError("disk quota exceeded")

    with schema_context("concord"):
        recipient = NotificationRecipient.objects.get(answer="has_footage")
        monkeypatch.setattr(FootageClip, "save", refuse)
        with pytest.raises(DatabaseError):
            clip_upload(
                recipient=recipient,
                upload=SimpleUploadedFile("porch.mp4", MP4),
                program=Program.objects.get(department__schema_name="concord"),
                ip_address=None,
            )
        monkeypatch.setattr(ImportJob, "save", refuse)
        with pytest.raises(DatabaseError):
            import_start(actor=Actor.system("test"), filename="r.csv", content=b"address\n")
        assert not FootageClip.objects.exists() and not ImportJob.objects.exists()
    assert s3_storages.keys(PRIVATE_BUCKET) == []
