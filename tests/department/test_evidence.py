"""Evidence is private: clips live in private storage under their city's prefix, are recognised
by their content, are read only through the audited download view (streamed, or a one-minute
signed URL when storage is S3), stay within each answer link's limits, and never outlive a
failed upload; an owner's opt-out takes the clip names that may carry their personal data."""

from __future__ import annotations

import importlib
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from secrets import token_urlsafe
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.test import override_settings
from django.urls import clear_url_caches
from django_tenants.utils import schema_context
from PIL import Image

from portal.department.models import FootageClip, Incident, NotificationRecipient
from portal.department.services import clip_upload
from portal.registry.models import AuditEntry, Participant, Site
from portal.registry.services import participant_create
from tenants.database import database_owner
from tenants.models import Program
from tests.conftest import incident_post_data
from tests.department.test_notify import MP4
from tests.residents.test_opt_out import rows_mentioning
from tests.storage.s3 import S3_ENVIRONMENT, S3Server, settings_with

pytestmark = pytest.mark.django_db


# --- Files as owners send them, and as attackers disguise them --------------------------------


def iso_media(brand: bytes, payload: bytes = b"\x00" * 200) -> bytes:
    """A well-formed ISO base media file: an ftyp box of the brand, then a media data box."""
    ftyp = b"ftyp" + brand + b"\x00\x00\x02\x00" + brand
    mdat = b"mdat" + payload
    return (len(ftyp) + 4).to_bytes(4, "big") + ftyp + (len(mdat) + 4).to_bytes(4, "big") + mdat


def ebml(doctype: bytes) -> bytes:
    """The start of a WebM or Matroska file: the EBML header naming its DocType, a segment."""
    header = (
        b"\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
        + b"\x42\x82"
        + bytes([0x80 | len(doctype)])
        + doctype
        + b"\x42\x87\x81\x04\x42\x85\x81\x02"
    )
    segment = b"\x18\x53\x80\x67\x88" + b"\x00" * 8
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(header)]) + header + segment


def avi() -> bytes:
    body = b"AVI " + b"LIST" + (4).to_bytes(4, "little") + b"hdrl" + b"\x00" * 64
    return b"RIFF" + len(body).to_bytes(4, "little") + body


def image(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#345678").save(buffer, kind)
    return buffer.getvalue()


ACCEPTED = {
    # name the uploader gave (misleading on purpose), bytes, type and extension kept
    "mp4": ("porch.html", iso_media(b"isom"), "video/mp4", "mp4"),
    "mov": ("porch.mp4", iso_media(b"qt  "), "video/quicktime", "mov"),
    "webm": ("porch", ebml(b"webm"), "video/webm", "webm"),
    "mkv": ("porch.webm", ebml(b"matroska"), "video/x-matroska", "mkv"),
    "avi": ("porch.svg", avi(), "video/x-msvideo", "avi"),
    "jpeg": ("porch.png", image("JPEG"), "image/jpeg", "jpg"),
    "png": ("porch.exe", image("PNG"), "image/png", "png"),
}

PAGE = b"<!doctype html><html><body><script>fetch('/my/export/')</script></body></html>"
TYPE_REFUSED = "Only video (MP4, MOV, WebM, MKV, AVI) and images (JPEG, PNG) can be uploaded"
MARKUP_REFUSED = "This file holds a web page, a script or a drawing (HTML, SVG), not footage"
DISGUISED = {
    # an HTML page behind the four bytes the old check looked for
    "page behind ftyp": ("porch.mp4", b"\x00\x00\x00\x18ftypmp42" + PAGE, MARKUP_REFUSED),
    # the same, with the page pushed past the bytes a browser sniffs
    "page far behind ftyp": (
        "porch.mp4",
        b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12 + b" " * 6000 + PAGE,
        TYPE_REFUSED,
    ),
    "svg": (
        "porch.mp4",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        MARKUP_REFUSED,
    ),
    "html": ("porch.mp4", PAGE, MARKUP_REFUSED),
    "script": ("porch.mp4", b"fetch('/my/export/').then(r => r.text())", TYPE_REFUSED),
    "jpeg header, page behind": ("porch.jpg", b"\xff\xd8\xff\xe0" + PAGE, MARKUP_REFUSED),
    "forged RIFF size": ("porch.avi", b"RIFF\xff\xff\x00\x00AVI " + b"\x00" * 64, TYPE_REFUSED),
}


# --- An owner with an answer link -------------------------------------------------------------


@pytest.fixture(autouse=True)
def private_root(tmp_path: Path) -> Iterator[Path]:
    """Each test's evidence in a folder of its own, so that a file left behind shows."""
    evidence = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path), "base_url": None},
    }
    with override_settings(
        PRIVATE_ROOT=tmp_path, STORAGES={**settings.STORAGES, "evidence": evidence}
    ):
        yield tmp_path


def stored_files(schema_name: str) -> list[Path]:
    root = Path(settings.PRIVATE_ROOT) / schema_name / "footage"
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def answer_link(make_resident, make_staff, site_data, django_capture_on_commit_callbacks):
    """Alice (with a site in the area) answered "I have footage" to a Concord notice; returns
    the investigator, the incident, Alice and her link."""
    alice = make_resident("concord")
    alice.client.post("/register/", site_data(contact_name="Alice Moreno"))
    investigator = make_staff("concord", "investigator")
    investigator.client.post(
        "/department/incidents/",
        incident_post_data(case_number="CPD-88", address="Union St S", radius_m="400"),
    )
    with schema_context("concord"):
        incident = Incident.objects.get(case_number="CPD-88")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{incident.pk}/notify/", {"message": "", "key": token_urlsafe()}
        )
    body = next(m for m in mail.outbox if m.to == ["alice@example.org"]).body
    url = re.search(r"http://concord\.localhost:8000(/answer/\S+/)", body).group(1)
    alice.client.post(url, {"answer": "has_footage"})
    return investigator, incident, alice, url


def upload(client, url: str, name: str, content: bytes, content_type: str = "video/mp4", **extra):
    return client.post(
        url, {"clip": SimpleUploadedFile(name, content, content_type=content_type)}, **extra
    )


def only_clip() -> FootageClip:
    with schema_context("concord"):
        return FootageClip.objects.get()


# --- Private storage, under the city's prefix -------------------------------------------------


def test_a_clip_is_kept_in_private_storage_under_its_citys_prefix(answer_link):
    _investigator, incident, alice, url = answer_link
    assert upload(alice.client, url, "porch.mp4", MP4).status_code == 302
    clip = only_clip()
    assert clip.file.name.startswith(f"concord/footage/{incident.pk}/")
    assert clip.file.name.endswith(f"{clip.sha256}.mp4")
    assert stored_files("concord") == [Path(settings.PRIVATE_ROOT) / clip.file.name]
    assert stored_files("concord")[0].read_bytes() == MP4
    assert not list(Path(settings.MEDIA_ROOT).rglob(f"*{clip.sha256}*"))


@pytest.fixture
def urls_as_in_the_demo() -> Iterator[None]:
    """The URL confs as `make demo` builds them (DEBUG): where /media/ was served to anyone."""
    from canvass import urls_public, urls_tenant

    def rebuild() -> None:
        for module in (urls_tenant, urls_public):
            importlib.reload(module)
        clear_url_caches()

    with override_settings(DEBUG=True):
        rebuild()
        yield
    rebuild()


@pytest.mark.parametrize("host", ["concord.localhost", "carrollton.localhost", "localhost"])
def test_no_clip_is_served_under_media_on_any_host(
    answer_link, urls_as_in_the_demo, host_client, host
):
    investigator, _incident, alice, url = answer_link
    upload(alice.client, url, "porch.mp4", MP4)
    clip = only_clip()
    investigator.client.get("/department/")  # signed in or not makes no difference
    for client in (host_client(host), investigator.client):
        for path in (f"/media/{clip.file.name}", f"/media/footage/{clip.incident_id}/"):
            response = client.get(path, HTTP_HOST=host)
            assert response.status_code == 404, path
            assert MP4 not in b"".join(getattr(response, "streaming_content", [response.content]))
    with schema_context("concord"):
        assert not AuditEntry.objects.filter(action="download").exists()


def test_the_logo_is_the_only_upload_served_publicly(urls_as_in_the_demo, concord_client):
    html = concord_client.get("/").content.decode()
    logo_url = re.search(r'<img class="brand__logo" src="([^"]+)"', html).group(1)
    logo = concord_client.get(logo_url)
    assert logo.status_code == 200
    assert b"".join(logo.streaming_content).startswith(b"\x89PNG\r\n\x1a\n")
    for path in ("/media/", "/media/concord/footage/", "/media/footage/"):
        assert concord_client.get(path).status_code == 404, path
    # Out of the logos' folder is refused too.
    assert concord_client.get("/media/logos/../footage/").status_code in {400, 404}


# --- Read only through the audited download view ----------------------------------------------


def test_the_download_is_an_attachment_never_sniffed_nor_cached_and_recorded(answer_link):
    investigator, _incident, alice, url = answer_link
    upload(alice.client, url, "porch.html", MP4, content_type="text/html")
    clip = only_clip()
    download = investigator.client.get(f"/department/clips/{clip.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == MP4
    assert download["Content-Type"] == "video/mp4"
    assert download["Content-Disposition"] == 'attachment; filename="porch.mp4"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download["Cache-Control"]
    with schema_context("concord"):
        entry = AuditEntry.objects.get(action="download")
    assert clip.sha256 in entry.reason and entry.actor_email == investigator.email


def test_owners_residents_and_strangers_get_no_clip(answer_link, concord_client, make_resident):
    _investigator, _incident, alice, url = answer_link
    upload(alice.client, url, "porch.mp4", MP4)
    clip = only_clip()
    path = f"/department/clips/{clip.pk}/"
    anonymous = concord_client.get(path)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert alice.client.get(path).status_code == 403
    bob = make_resident("concord", email="bob@example.org")
    assert bob.client.get(path).status_code == 403
    with schema_context("concord"):
        assert not AuditEntry.objects.filter(action="download").exists()


# --- Recognised by content --------------------------------------------------------------------


@pytest.mark.parametrize("kind", ACCEPTED)
def test_each_accepted_format_is_stored_under_its_own_type_and_extension(answer_link, kind):
    investigator, _incident, alice, url = answer_link
    name, content, content_type, extension = ACCEPTED[kind]
    response = upload(alice.client, url, name, content, content_type="text/html")
    assert response.status_code == 302
    clip = only_clip()
    assert (clip.content_type, clip.extension) == (content_type, extension)
    assert clip.file.name.endswith(f".{extension}")
    assert clip.original_name == name
    download = investigator.client.get(f"/department/clips/{clip.pk}/")
    assert download["Content-Type"] == content_type
    assert download["Content-Disposition"].endswith(f'.{extension}"')


@pytest.mark.parametrize("disguise", DISGUISED)
def test_pages_scripts_and_drawings_disguised_as_footage_are_refused(answer_link, disguise):
    _investigator, _incident, alice, url = answer_link
    name, content, message = DISGUISED[disguise]
    response = upload(alice.client, url, name, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    with schema_context("concord"):
        assert not FootageClip.objects.exists()
    assert stored_files("concord") == []


def test_the_refusal_is_in_the_owners_language(answer_link):
    _investigator, _incident, alice, url = answer_link
    response = upload(alice.client, url, "porch.mp4", PAGE, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "Este archivo contiene una página web" in response.content.decode()


def test_a_long_content_type_is_ignored_for_the_sniffed_one(answer_link):
    _investigator, _incident, alice, url = answer_link
    content_type = "video/x-" + "mp4" * 50  # parameters (";...") would be split off
    response = upload(alice.client, url, "porch.mp4", MP4, content_type=content_type)
    assert response.status_code == 302
    assert only_clip().content_type == "video/mp4"
    assert len(stored_files("concord")) == 1


def test_a_long_file_name_is_kept_short_for_display(answer_link):
    _investigator, _incident, alice, url = answer_link
    name = "porch " + "x" * 300 + ".mp4"
    assert upload(alice.client, url, name, MP4).status_code == 302
    clip = only_clip()
    assert clip.original_name == name[:100]
    assert clip.file.name.endswith(f"{clip.sha256}.mp4")


# --- Limits per answer link -------------------------------------------------------------------


def limits(**values: int) -> None:
    Program.objects.filter(department__schema_name="concord").update(**values)


def test_a_link_takes_no_more_files_than_the_department_allows(answer_link):
    _investigator, _incident, alice, url = answer_link
    limits(clips_per_link_max=2)
    assert "This link takes up to 2 files" in alice.client.get(url).content.decode()
    assert upload(alice.client, url, "one.mp4", iso_media(b"isom", b"1")).status_code == 302
    assert upload(alice.client, url, "two.mp4", iso_media(b"isom", b"2")).status_code == 302
    third = upload(alice.client, url, "three.mp4", iso_media(b"isom", b"3"))
    assert third.status_code == 400
    assert "This link has taken 2 files, the most it takes." in third.content.decode()
    with schema_context("concord"):
        assert FootageClip.objects.count() == 2
    assert len(stored_files("concord")) == 2


def test_the_administrator_sets_the_footage_limits_and_owners_meet_them(answer_link, make_staff):
    _investigator, _incident, alice, url = answer_link
    admin = make_staff("concord", "administrator")
    page = admin.client.get("/department/settings/").content.decode()
    assert 'name="clips_per_link_max" value="10"' in page
    saved = admin.client.post(
        "/department/settings/",
        {"limits": "", "clips_per_link_max": "1", "megabytes_per_link_max": "5"},
    )
    assert saved.status_code == 302
    program = Program.objects.get(department__schema_name="concord")
    assert (program.clips_per_link_max, program.clip_bytes_per_link_max) == (1, 5 * 1024**2)
    assert upload(alice.client, url, "one.mp4", iso_media(b"isom", b"1")).status_code == 302
    assert upload(alice.client, url, "two.mp4", iso_media(b"isom", b"2")).status_code == 400


@pytest.mark.parametrize(
    ("clips", "megabytes", "message"),
    [
        ("0", "5", "Ensure this value is greater than or equal to 1."),
        ("101", "5", "Ensure this value is less than or equal to 100."),
        ("3", "99999999", "Ensure this value is less than or equal to 51200."),
        ("three", "5", "Enter a whole number."),
    ],
)
def test_footage_limits_out_of_range_are_refused_and_nothing_changes(
    make_staff, clips, megabytes, message
):
    admin = make_staff("concord", "administrator")
    refused = admin.client.post(
        "/department/settings/",
        {"limits": "", "clips_per_link_max": clips, "megabytes_per_link_max": megabytes},
    )
    assert refused.status_code == 400
    assert message in refused.content.decode()
    program = Program.objects.get(department__schema_name="concord")
    assert (program.clips_per_link_max, program.clip_bytes_per_link_max) == (10, 2 * 1024**3)


def test_only_administrators_set_the_footage_limits(make_staff):
    investigator = make_staff("concord", "investigator")
    refused = investigator.client.post(
        "/department/settings/",
        {"limits": "", "clips_per_link_max": "1", "megabytes_per_link_max": "5"},
    )
    assert refused.status_code == 403
    assert Program.objects.get(department__schema_name="concord").clips_per_link_max == 10


def test_a_link_takes_no_more_bytes_than_the_department_allows(answer_link):
    _investigator, _incident, alice, url = answer_link
    limits(clip_bytes_per_link_max=len(MP4) + 100)
    assert upload(alice.client, url, "one.mp4", MP4).status_code == 302
    second = upload(alice.client, url, "two.mp4", iso_media(b"isom", b"2" * 150))
    assert second.status_code == 400
    assert "what you sent through this link would come to" in second.content.decode()
    with schema_context("concord"):
        assert FootageClip.objects.count() == 1
    assert len(stored_files("concord")) == 1


# --- Nothing half-done ------------------------------------------------------------------------


def test_a_database_error_leaves_no_file(answer_link, monkeypatch):
    _investigator, _incident, _alice, _url = answer_link
    with schema_context("concord"):
        recipient = NotificationRecipient.objects.get(answer="has_footage")

        # A database error after the file is written: the row is refused. (The application's
        # role may not add a trigger that would make PostgreSQL itself refuse it, and one added
        # as the owner would outlive the test, so the error is raised where the row is saved.)
        def refuse(*args: object, **kwargs: object) -> None:
            raise DatabaseError("disk quota exceeded")

        monkeypatch.setattr(FootageClip, "save", refuse)
        with pytest.raises(DatabaseError, match="disk quota exceeded"):
            clip_upload(
                recipient=recipient,
                upload=SimpleUploadedFile("porch.mp4", MP4),
                program=Program.objects.get(department__schema_name="concord"),
                ip_address="127.0.0.1",
            )
        assert not FootageClip.objects.exists()
    assert stored_files("concord") == []


# --- An owner's opt-out -----------------------------------------------------------------------


@pytest.mark.parametrize("close_account", [True, False])
def test_opting_out_renames_the_owners_clips_and_keeps_them_with_the_case(
    answer_link, close_account
):
    investigator, incident, alice, url = answer_link
    upload(alice.client, url, "Alice Moreno front porch.mp4", MP4)
    clip = only_clip()
    investigator.client.get(f"/department/clips/{clip.pk}/")
    form = {"confirm": "on"} | ({"close_account": "on"} if close_account else {})
    left = alice.client.post("/my/leave/", form)
    assert left.status_code == 200 and not alice_has_sites()
    kept = only_clip()
    assert kept.original_name == f"clip-{clip.pk}.mp4"
    assert (kept.sha256, kept.file.name, kept.incident_id) == (
        clip.sha256,
        clip.file.name,
        incident.pk,
    )
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert f"clip-{clip.pk}.mp4" in page and "Alice Moreno" not in page
    assert (
        b"".join(investigator.client.get(f"/department/clips/{clip.pk}/").streaming_content) == MP4
    )
    # The scan of every text column in the city (tests/residents/test_opt_out.py).
    assert rows_mentioning("concord", ["Alice Moreno"]) == []


def alice_has_sites() -> bool:
    with schema_context("concord"):
        return Site.objects.filter(contact_name="Alice Moreno").exists()


def test_another_owners_clip_names_stay(answer_link):
    _investigator, incident, alice, url = answer_link
    upload(alice.client, url, "Alice porch.mp4", MP4)
    with schema_context("concord"):
        bob = Participant.objects.create(
            user=get_user_model().objects.create_user(username="bob", email="bob@example.org")
        )
        notification = incident.notifications.first()
        other = NotificationRecipient.objects.create(
            notification=notification, participant=bob, answer="has_footage"
        )
        clip_upload(
            recipient=other,
            upload=SimpleUploadedFile("Bob garage.mp4", iso_media(b"isom", b"bob")),
            program=Program.objects.get(department__schema_name="concord"),
            ip_address=None,
        )
    alice.client.post("/my/leave/", {"confirm": "on", "close_account": "on"})
    with schema_context("concord"):
        names = sorted(FootageClip.objects.values_list("original_name", flat=True))
    assert names[0] == "Bob garage.mp4" and names[1].startswith("clip-")


# --- Two cities, the same ids -----------------------------------------------------------------


def case_with_clips(schema_name: str, *, incident_pk: int, contents: list[bytes]) -> list[int]:
    """An incident of the given id in the city, and an owner's clips for it."""
    with schema_context(schema_name):
        user = get_user_model().objects.create_user(
            username=f"owner@{schema_name}.example.org", email=f"owner@{schema_name}.example.org"
        )
        participant = participant_create(user=user)
        incident = Incident.objects.create(
            pk=incident_pk,
            kind="crime",
            case_number=f"{schema_name}-1",
            latitude=35.408,
            longitude=-80.581,
            starts_at=datetime(2026, 11, 20, 21, tzinfo=UTC),
            ends_at=datetime(2026, 11, 20, 22, tzinfo=UTC),
            radius_m=300,
            opened_by=user,
        )
        notification = incident.notifications.create(message="m", radius_m=300, created_by=user)
        recipient = NotificationRecipient.objects.create(
            notification=notification, participant=participant, answer="has_footage"
        )
        program = Program.objects.get(department__schema_name=schema_name)
        return [
            clip_upload(
                recipient=recipient,
                upload=SimpleUploadedFile("porch.mp4", content),
                program=program,
                ip_address=None,
            ).pk
            for content in contents
        ]


def clip_ids_from(first_id: int) -> None:
    """Both cities number their next clip `first_id`: ids collide on purpose. (Only the owner
    may set a sequence; setval is not transactional and takes no lock the test holds.)"""
    for schema_name in ("concord", "carrollton"):
        with database_owner(), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT setval('\"{schema_name}\".department_footageclip_id_seq', %s, false)",
                [first_id],
            )


def test_the_same_ids_in_two_cities_are_two_clips_each_city_reading_its_own(make_staff):
    concord_bytes = iso_media(b"isom", b"concord porch")
    carrollton_bytes = [iso_media(b"isom", b"carrollton porch"), iso_media(b"isom", b"second")]
    clip_ids_from(4242)
    (concord_id,) = case_with_clips("concord", incident_pk=777, contents=[concord_bytes])
    carrollton_id, carrollton_only = case_with_clips(
        "carrollton", incident_pk=777, contents=carrollton_bytes
    )
    assert concord_id == carrollton_id == 4242

    with schema_context("concord"):
        concord_name = FootageClip.objects.get(pk=4242).file.name
    with schema_context("carrollton"):
        carrollton_name = FootageClip.objects.get(pk=4242).file.name
    assert concord_name.startswith("concord/footage/777/")
    assert carrollton_name.startswith("carrollton/footage/777/")
    assert (Path(settings.PRIVATE_ROOT) / concord_name).read_bytes() == concord_bytes
    assert (Path(settings.PRIVATE_ROOT) / carrollton_name).read_bytes() == carrollton_bytes[0]

    concord = make_staff("concord", "investigator")
    carrollton = make_staff("carrollton", "investigator")
    from_concord = concord.client.get("/department/clips/4242/")
    from_carrollton = carrollton.client.get("/department/clips/4242/")
    assert b"".join(from_concord.streaming_content) == concord_bytes
    assert b"".join(from_carrollton.streaming_content) == carrollton_bytes[0]
    assert concord.client.get(f"/department/clips/{carrollton_only}/").status_code == 404
    # Concord's session means nothing on Carrollton's host.
    crossing = concord.client.get("/department/clips/4242/", HTTP_HOST="carrollton.localhost")
    assert crossing.status_code == 302 and "/accounts/login/" in crossing["Location"]
    for schema_name, expected in (("concord", 1), ("carrollton", 1)):
        with schema_context(schema_name):
            assert AuditEntry.objects.filter(action="download").count() == expected


# --- Object storage: a signed URL, valid for a minute -----------------------------------------


def test_with_s3_the_download_is_a_signed_url_for_one_minute_that_forces_attachment(
    s3_storages: S3Server, answer_link
):
    s3_evidence = s3_storages.endpoint
    investigator, _incident, alice, url = answer_link
    assert upload(alice.client, url, "porch.html", MP4, content_type="text/html").status_code == 302
    clip = only_clip()
    keys = s3_storages.keys("canvass-evidence")
    assert keys == [clip.file.name] and clip.file.name.startswith("concord/footage/")
    assert stored_files("concord") == []

    before = datetime.now(UTC).replace(microsecond=0)
    download = investigator.client.get(f"/department/clips/{clip.pk}/")
    assert download.status_code == 302
    assert "no-store" in download["Cache-Control"]
    signed = download["Location"]
    assert signed.startswith(f"{s3_evidence}/canvass-evidence/concord/footage/")
    query = parse_qs(urlsplit(signed).query)
    assert query["X-Amz-Expires"] == ["60"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= signed_at <= datetime.now(UTC)
    assert query["response-content-disposition"] == ['attachment; filename="porch.mp4"']
    with urlopen(signed, timeout=10) as fetched:  # loopback only: the moto server above
        assert fetched.read() == MP4
        assert fetched.headers["Content-Disposition"] == 'attachment; filename="porch.mp4"'
        assert fetched.headers["Content-Type"] == "video/mp4"
    with schema_context("concord"):
        assert AuditEntry.objects.filter(action="download").count() == 1


def test_s3_storage_needs_a_private_bucket_for_evidence(monkeypatch):
    without = {
        name: value for name, value in S3_ENVIRONMENT.items() if name != "S3_EVIDENCE_BUCKET"
    }
    monkeypatch.delenv("S3_EVIDENCE_BUCKET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="S3_EVIDENCE_BUCKET"):
        settings_with(without)
    with pytest.raises(ImproperlyConfigured, match="S3_EVIDENCE_BUCKET"):
        settings_with(without | {"S3_EVIDENCE_BUCKET": "canvass-logos"})
