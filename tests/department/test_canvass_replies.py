"""Next to each site of the canvass: what its owner answered (not only totals) and the clips
they sent, with a preview for images and videos served inline through the audited download
route; a clip id of one city never previews another city's clip."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from portal.department.models import FootageClip, Incident, NotificationRecipient
from portal.department.services import clip_upload
from portal.registry.models import AuditEntry, Participant, Site
from portal.registry.services import site_register
from tenants.models import Program
from tests.department.test_evidence import clip_ids_from
from tests.department.test_notify import MP4

pytestmark = pytest.mark.django_db


def png(marker: bytes) -> bytes:
    """A small well-formed PNG whose text chunk carries `marker` (so two differ)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + b"\x08\x00\x00\x00\x00"
    pixels = zlib.compress(b"\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00" + marker)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


ADDRESS = "77 Union St S, Concord, NC 28025"

# RIFF/AVI: stored and downloadable, but no browser plays it inline.
AVI = b"RIFF" + (12).to_bytes(4, "little") + b"AVI LIST" + b"\x00" * 4


def case_in(schema_name: str, *, uploads: list[tuple[str, bytes]], answer: str = "has_footage"):
    """An incident near the owner's site in the city, an area notice the owner answered, and
    the owner's uploads. Returns the incident, the site and the clips."""
    with schema_context(schema_name):
        site = Site.objects.get(address=ADDRESS)
        incident = Incident.objects.create(
            kind="crime",
            category="burglary",
            case_number=f"{schema_name.upper()}-9",
            latitude=site.latitude,
            longitude=site.longitude,
            starts_at=datetime(2026, 11, 20, 21, tzinfo=UTC),
            ends_at=datetime(2026, 11, 20, 22, tzinfo=UTC),
            radius_m=300,
            opened_by=site.participant.user,
        )
        notification = incident.notifications.create(
            message="m", radius_m=300, created_by=site.participant.user
        )
        recipient = NotificationRecipient.objects.create(
            notification=notification, participant=site.participant, answer=answer
        )
        program = Program.objects.get(department__schema_name=schema_name)
        clips = [
            clip_upload(
                recipient=recipient,
                upload=SimpleUploadedFile(name, content),
                program=program,
                ip_address=None,
            )
            for name, content in uploads
        ]
        return incident, site, clips


@pytest.fixture
def owner_in(make_resident, site_data):
    """An owner with one site at 77 Union St S: posted in Concord, registered at the programme's
    centre elsewhere (Concord's coordinates are outside other cities' service areas)."""

    def make(schema_name: str):
        resident = make_resident(schema_name, email=f"owner@{schema_name}.example.org")
        if schema_name == "concord":
            assert resident.client.post("/register/", site_data()).status_code == 302
            return resident
        program = Program.objects.get(department__schema_name=schema_name)
        with schema_context(schema_name):
            participant = Participant.objects.get(user__email=resident.email)
            site_register(
                participant=participant,
                program=program,
                site={
                    "kind": "home",
                    "address": ADDRESS,
                    "latitude": program.center_latitude,
                    "longitude": program.center_longitude,
                    "contact_name": "Owner",
                    "contact_phone": "",
                    "contact_email": resident.email,
                    "contact_method": "email",
                    "contact_hours": "",
                },
                cameras=[
                    {
                        "label": "Porch",
                        "direction": 90,
                        "sees": ["street"],
                        "mount": "wall",
                        "recording": "motion",
                        "retention_days": 30,
                        "night_vision": False,
                    }
                ],
                language="en",
            )
        return resident

    return make


def test_each_site_shows_its_owners_answer_and_clips(
    owner_in, make_staff, make_resident, site_data
):
    owner_in("concord")
    # A neighbour who was not asked: nothing next to their site.
    neighbour = make_resident("concord", email="neighbour@example.org")
    neighbour.client.post("/register/", site_data(address="9 Quiet Ln", latitude="35.4081"))
    incident, site, clips = case_in(
        "concord", uploads=[("porch.png", png(b"concord")), ("street.mp4", MP4)]
    )
    investigator = make_staff("concord", "investigator")
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    row = page.split(f'<tr id="site-row-{site.pk}">')[1].split("</tr>")[0]
    assert "Area notice: has footage" in row
    image, video = clips
    assert f'<img src="/department/clips/{image.pk}/?preview=1"' in row
    assert f'<video src="/department/clips/{video.pk}/?preview=1"' in row
    assert ">porch.png</a>" in row and ">street.mp4</a>" in row
    # The case's clip list names the site each clip came from.
    assert "· from site 1</li>" in page
    with schema_context("concord"):
        quiet = Site.objects.get(address="9 Quiet Ln")
    quiet_row = page.split(f'<tr id="site-row-{quiet.pk}">')[1].split("</tr>")[0]
    assert "Area notice" not in quiet_row and "preview=1" not in quiet_row
    # Listing previews fetches nothing: only opening one does, and that is recorded.
    with schema_context("concord"):
        assert not AuditEntry.objects.filter(action="download").exists()


def test_an_unanswered_request_shows_as_such(owner_in, make_staff):
    owner_in("concord")
    incident, site, _clips = case_in("concord", uploads=[], answer="")
    investigator = make_staff("concord", "investigator")
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    row = page.split(f'<tr id="site-row-{site.pk}">')[1].split("</tr>")[0]
    assert "Area notice: no answer yet" in row


def test_a_preview_is_inline_sandboxed_and_recorded_like_a_download(owner_in, make_staff):
    owner_in("concord")
    _incident, _site, (image, video, avi) = case_in(
        "concord",
        uploads=[("porch.png", png(b"concord")), ("street.mp4", MP4), ("old.avi", AVI)],
    )
    investigator = make_staff("concord", "investigator")
    response = investigator.client.get(f"/department/clips/{image.pk}/?preview=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == png(b"concord")
    played = investigator.client.get(f"/department/clips/{video.pk}/?preview=1")
    assert played["Content-Type"] == "video/mp4"
    assert played["Content-Disposition"].startswith("inline;")
    # AVI plays in no browser: no inline copy, and nothing recorded for the refusal.
    assert investigator.client.get(f"/department/clips/{avi.pk}/?preview=1").status_code == 404
    # Without ?preview=1 every clip is still an attachment.
    download = investigator.client.get(f"/department/clips/{image.pk}/")
    assert download["Content-Disposition"].startswith("attachment;")
    with schema_context("concord"):
        reasons = list(
            AuditEntry.objects.filter(action="download")
            .order_by("pk")
            .values_list("reason", flat=True)
        )
    assert len(reasons) == 3
    assert reasons[0].endswith("(preview)") and reasons[1].endswith("(preview)")
    assert not reasons[2].endswith("(preview)")


def test_analysts_get_no_preview(owner_in, make_staff):
    owner_in("concord")
    _incident, _site, (image,) = case_in("concord", uploads=[("porch.png", png(b"c"))])
    analyst = make_staff("concord", "analyst")
    assert analyst.client.get(f"/department/clips/{image.pk}/?preview=1").status_code == 403


def test_a_clip_id_of_one_city_never_previews_in_another(owner_in, make_staff):
    owner_in("concord")
    owner_in("carrollton")
    clip_ids_from(5151)
    _incident, _site, (concord_clip,) = case_in("concord", uploads=[("a.png", png(b"concord"))])
    _incident, _site, (carrollton_clip,) = case_in(
        "carrollton", uploads=[("b.png", png(b"carrollton"))]
    )
    assert concord_clip.pk == carrollton_clip.pk == 5151
    concord = make_staff("concord", "investigator")
    carrollton = make_staff("carrollton", "investigator")
    from_concord = concord.client.get("/department/clips/5151/?preview=1")
    from_carrollton = carrollton.client.get("/department/clips/5151/?preview=1")
    assert b"".join(from_concord.streaming_content) == png(b"concord")
    assert b"".join(from_carrollton.streaming_content) == png(b"carrollton")
    # A Carrollton row naming Concord's file (it cannot come from an upload) is never served.
    with schema_context("carrollton"):
        FootageClip.objects.filter(pk=5151).update(file=concord_clip.file.name)
    assert carrollton.client.get("/department/clips/5151/?preview=1").status_code == 404
    # Concord's session means nothing on Carrollton's host.
    crossing = concord.client.get(
        "/department/clips/5151/?preview=1", HTTP_HOST="carrollton.localhost"
    )
    assert crossing.status_code == 302 and "/accounts/login/" in crossing["Location"]
