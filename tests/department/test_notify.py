"""'Check your camera': one notice per owner in the area, answered once through a signed link,
with clips kept under a SHA-256 and every download recorded."""

from __future__ import annotations

import hashlib
import re
from secrets import token_urlsafe

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from portal.department.models import FootageClip, Incident, NotificationRecipient
from portal.department.tasks import notify_area
from portal.registry.models import AuditEntry, Participant, Site
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db

# The smallest well-formed MP4: an ftyp box, then a media data box that runs to the end.
MP4 = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp42" + b"\x00\x00\x00\xd0mdat" + b"\x00" * 200


@pytest.fixture
def neighbourhood(make_resident, site_data):
    """Alice with two sites in the area, Bob (Spanish) in it, Carol far away, Dan paused."""
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    alice.client.post("/register/", site_data(address="79 Union St S", latitude="35.4082"))
    bob = make_resident("concord", email="bob@example.org", language="es")
    bob.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    bob.client.post("/register/", site_data(address="80 Union St S", latitude="35.4079"))
    carol = make_resident("concord", email="carol@example.org")
    carol.client.post("/register/", site_data(address="1 Far Rd", latitude="35.45"))
    dan = make_resident("concord", email="dan@example.org")
    dan.client.post("/register/", site_data(address="81 Union St S"))
    with schema_context("concord"):
        Site.objects.filter(address="81 Union St S").update(paused=True)
    return {"alice": alice, "bob": bob, "carol": carol, "dan": dan}


@pytest.fixture
def incident(make_staff):
    investigator = make_staff("concord", "investigator")
    investigator.client.post(
        "/department/incidents/",
        incident_post_data(
            category="robbery", case_number="CPD-77", address="Union St S", radius_m="400"
        ),
    )
    with schema_context("concord"):
        return investigator, Incident.objects.get()


def notify(investigator, incident, capture):
    mail.outbox.clear()
    with capture(execute=True):
        return investigator.client.post(
            f"/department/incidents/{incident.pk}/notify/",
            {"message": "Please check.", "key": token_urlsafe()},
        )


def link(message) -> str:
    return re.search(r"http://concord\.localhost:8000(/answer/\S+/)", message.body).group(1)


def test_every_active_owner_in_the_area_gets_one_notice(
    neighbourhood, incident, django_capture_on_commit_callbacks
):
    investigator, case = incident
    response = notify(investigator, case, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == ["alice@example.org", "bob@example.org"]
    spanish = next(m for m in mail.outbox if m.to == ["bob@example.org"])
    # The department's name in the owner's language (Department.name_es).
    assert spanish.subject == "Departamento de Policía de Concord: revise su cámara"
    with schema_context("concord"):
        entry = AuditEntry.objects.get(action="notify")
        assert entry.incident_id == case.pk


def test_running_the_job_again_sends_nothing_twice(
    neighbourhood, incident, django_capture_on_commit_callbacks
):
    investigator, case = incident
    notify(investigator, case, django_capture_on_commit_callbacks)
    with schema_context("concord"):
        notification = case.notifications.get()
        assert notify_area(notification.pk) == 0
        assert NotificationRecipient.objects.count() == 2
    assert len(mail.outbox) == 2


def test_the_owner_answers_once_through_the_link(
    neighbourhood, incident, concord_client, django_capture_on_commit_callbacks
):
    investigator, case = incident
    notify(investigator, case, django_capture_on_commit_callbacks)
    url = link(next(m for m in mail.outbox if m.to == ["alice@example.org"]))
    page = concord_client.get(url)
    assert page.status_code == 200 and "I have footage" in page.content.decode()
    concord_client.post(url, {"answer": "has_footage"})
    again = concord_client.post(url, {"answer": "nothing"}, follow=True)
    assert "You have already answered this request." in again.content.decode()
    with schema_context("concord"):
        alice = Participant.objects.get(user__email="alice@example.org")
        assert NotificationRecipient.objects.get(participant=alice).answer == "has_footage"
    page = investigator.client.get(f"/department/incidents/{case.pk}/").content.decode()
    assert "sent to 2 owners; 1 has footage, 0 saw nothing relevant." in page


@pytest.mark.parametrize("token", ["junk", "eyJyIjoxfQ:1abc:forged"])
def test_a_tampered_link_is_refused(neighbourhood, incident, concord_client, token):
    response = concord_client.get(f"/answer/{token}/")
    assert response.status_code == 400
    assert "This link is not valid." in response.content.decode()


def test_a_clip_is_kept_with_its_sha256_and_downloads_are_recorded(
    neighbourhood, incident, concord_client, django_capture_on_commit_callbacks
):
    investigator, case = incident
    notify(investigator, case, django_capture_on_commit_callbacks)
    url = link(next(m for m in mail.outbox if m.to == ["alice@example.org"]))
    concord_client.post(url, {"answer": "has_footage"})
    response = concord_client.post(url, {"clip": SimpleUploadedFile("porch.mp4", MP4, "video/mp4")})
    assert response.status_code == 302
    with schema_context("concord"):
        clip = FootageClip.objects.get()
    assert clip.sha256 == hashlib.sha256(MP4).hexdigest()
    assert clip.size == len(MP4)
    download = investigator.client.get(f"/department/clips/{clip.pk}/")
    assert b"".join(download.streaming_content) == MP4
    with schema_context("concord"):
        entry = AuditEntry.objects.get(action="download")
        assert clip.sha256 in entry.reason
        assert entry.actor_email == "investigator@concord.example.org"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello, this is not a video", "Only video (MP4, MOV, WebM, MKV, AVI) and"),
        ("fake.mp4", b"MZ\x90\x00 windows program", "Only video (MP4, MOV, WebM, MKV, AVI) and"),
        ("big.mp4", MP4 + b"\x00" * 5000, "the limit is"),
    ],
)
def test_bad_uploads_are_refused(
    neighbourhood,
    incident,
    concord_client,
    settings,
    django_capture_on_commit_callbacks,
    name,
    content,
    message,
):
    settings.FOOTAGE_MAX_BYTES = 1000
    investigator, case = incident
    notify(investigator, case, django_capture_on_commit_callbacks)
    url = link(next(m for m in mail.outbox if m.to == ["alice@example.org"]))
    concord_client.post(url, {"answer": "has_footage"})
    response = concord_client.post(url, {"clip": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert message in response.content.decode()
    with schema_context("concord"):
        assert not FootageClip.objects.exists()


def test_no_upload_before_answering_yes(
    neighbourhood, incident, concord_client, django_capture_on_commit_callbacks
):
    investigator, case = incident
    notify(investigator, case, django_capture_on_commit_callbacks)
    url = link(mail.outbox[0])
    response = concord_client.post(url, {"clip": SimpleUploadedFile("a.mp4", MP4)})
    assert response.status_code == 400


def test_analysts_cannot_notify_or_download(incident, make_staff):
    _investigator, case = incident
    analyst = make_staff("concord", "analyst")
    assert (
        analyst.client.post(
            f"/department/incidents/{case.pk}/notify/", {"message": "x", "key": token_urlsafe()}
        ).status_code
        == 403
    )


def test_without_a_message_each_owner_gets_the_standard_one_in_their_language(
    neighbourhood, incident, django_capture_on_commit_callbacks
):
    investigator, case = incident
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{case.pk}/notify/", {"message": "", "key": token_urlsafe()}
        )
    english = next(m for m in mail.outbox if m.to == ["alice@example.org"])
    spanish = next(m for m in mail.outbox if m.to == ["bob@example.org"])
    assert english.body.startswith("The police department asks residents of this area")
    assert spanish.body.startswith("El departamento de policía pide a los residentes")


def test_a_footage_request_goes_to_one_owner_and_is_recorded(
    neighbourhood, incident, django_capture_on_commit_callbacks
):
    investigator, case = incident
    with schema_context("concord"):
        site = Site.objects.get(address="80 Union St S")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = investigator.client.post(
            f"/department/incidents/{case.pk}/sites/{site.pk}/request/", {"message": ""}
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["bob@example.org"]]
    assert mail.outbox[0].body.startswith("El departamento de policía pregunta si su cámara")
    with schema_context("concord"):
        entry = AuditEntry.objects.get(action="footage_request")
        assert entry.site_id == site.pk
        from portal.department.models import CanvassEntry

        assert CanvassEntry.objects.get(incident=case, site=site).state == "contacted"
    page = neighbourhood["bob"].client.get("/my/access/").content.decode()
    assert "Solicitud de video" in page or "Video solicitado" in page


def test_footage_stays_with_the_case_when_its_owner_leaves(
    neighbourhood, incident, concord_client, django_capture_on_commit_callbacks
):
    investigator, case = incident
    notify(investigator, case, django_capture_on_commit_callbacks)
    url = link(next(m for m in mail.outbox if m.to == ["alice@example.org"]))
    concord_client.post(url, {"answer": "has_footage"})
    concord_client.post(url, {"clip": SimpleUploadedFile("porch.mp4", MP4, "video/mp4")})
    neighbourhood["alice"].client.post("/my/leave/", {"confirm": "on", "close_account": "on"})
    with schema_context("concord"):
        clip = FootageClip.objects.get()
        assert clip.incident_id == case.pk
        assert clip.recipient is None
        assert not Participant.objects.filter(user__email="alice@example.org").exists()
