"""The notices and footage requests a resident received, with their answers: changeable (and
each change recorded) until the department downloads the footage sent with it, then refused
with a clear message in English and Spanish, on the resident's page and on the emailed link."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from portal.department.models import FootageClip, Incident, NotificationRecipient
from portal.registry.models import AuditEntry, Participant, Site
from tests.conftest import incident_post_data
from tests.department.test_notify import MP4

pytestmark = pytest.mark.django_db


@pytest.fixture
def request_sent(make_resident, make_staff, site_data, django_capture_on_commit_callbacks):
    """A footage request of case CPD-12 emailed to Alice about her site."""
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    investigator = make_staff("concord", "investigator")
    investigator.client.post(
        "/department/incidents/",
        incident_post_data(case_number="CPD-12", address="Union St S", radius_m="400"),
    )
    with schema_context("concord"):
        incident = Incident.objects.get()
        site = Site.objects.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{incident.pk}/sites/{site.pk}/request/",
            {"message": "The porch camera, please."},
        )
    with schema_context("concord"):
        recipient = NotificationRecipient.objects.get()
    link = re.search(r"http://concord\.localhost:8000(/answer/\S+/)", mail.outbox[0].body)
    return alice, investigator, incident, recipient, link.group(1)


def answer_of(recipient: NotificationRecipient) -> str:
    with schema_context("concord"):
        return NotificationRecipient.objects.get(pk=recipient.pk).answer


def upload_and_download(alice, investigator, recipient, link):
    alice.client.post(link, {"clip": SimpleUploadedFile("porch.mp4", MP4, "video/mp4")})
    with schema_context("concord"):
        clip = FootageClip.objects.get(recipient=recipient)
    download = investigator.client.get(f"/department/clips/{clip.pk}/")
    assert b"".join(download.streaming_content) == MP4
    return clip


def test_the_page_lists_the_request_with_its_message_and_case(request_sent):
    alice, *_rest = request_sent
    page = alice.client.get("/my/requests/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Footage request, case CPD-12" in html
    assert "The porch camera, please." in html
    assert "Not answered yet" in html


def test_the_page_speaks_spanish(request_sent):
    alice, *_rest = request_sent
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    html = alice.client.get("/my/requests/").content.decode()
    assert "Solicitud de video, caso CPD-12" in html
    assert "Todavía sin responder" in html


def test_an_owner_with_nothing_received_is_told_so(make_resident):
    alice = make_resident("concord")
    html = alice.client.get("/my/requests/").content.decode()
    assert "You have not received any notice or request." in html


def test_the_owner_answers_then_changes_the_answer_and_the_change_is_recorded(request_sent):
    alice, _investigator, _incident, recipient, _link = request_sent
    first = alice.client.post(
        f"/my/requests/{recipient.pk}/answer/", {"answer": "nothing"}, follow=True
    )
    assert "Thank you for your answer." in first.content.decode()
    assert answer_of(recipient) == "nothing"
    changed = alice.client.post(
        f"/my/requests/{recipient.pk}/answer/", {"answer": "has_footage"}, follow=True
    )
    assert "Your answer is changed." in changed.content.decode()
    assert answer_of(recipient) == "has_footage"
    with schema_context("concord"):
        entry = AuditEntry.objects.get(action="answer_change")
        owner = Participant.objects.get(user__email="alice@example.org")
        assert entry.participant_id == owner.pk
        assert entry.case_number == "CPD-12"
        assert "nothing to has_footage" in entry.reason
    # With footage promised, the page offers the request's upload link.
    assert "Send footage for this request" in changed.content.decode()


def test_a_change_after_the_department_downloaded_the_clip_is_refused(request_sent):
    alice, investigator, _incident, recipient, link = request_sent
    alice.client.post(f"/my/requests/{recipient.pk}/answer/", {"answer": "has_footage"})
    clip = upload_and_download(alice, investigator, recipient, link)
    with schema_context("concord"):
        assert FootageClip.objects.get(pk=clip.pk).first_downloaded_at is not None
    page = alice.client.get("/my/requests/").content.decode()
    assert "this answer can no longer be changed" in page
    assert "Change to: nothing relevant" not in page
    refused = alice.client.post(f"/my/requests/{recipient.pk}/answer/", {"answer": "nothing"})
    assert refused.status_code == 409
    assert "The department has already downloaded the footage you sent" in refused.content.decode()
    assert answer_of(recipient) == "has_footage"
    with schema_context("concord"):
        assert not AuditEntry.objects.filter(action="answer_change").exists()


def test_the_refusal_speaks_spanish(request_sent):
    alice, investigator, _incident, recipient, link = request_sent
    alice.client.post(f"/my/requests/{recipient.pk}/answer/", {"answer": "has_footage"})
    upload_and_download(alice, investigator, recipient, link)
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    refused = alice.client.post(f"/my/requests/{recipient.pk}/answer/", {"answer": "nothing"})
    assert refused.status_code == 409
    assert "El departamento ya descargó el video" in refused.content.decode()


def test_a_clip_uploaded_but_not_downloaded_leaves_the_answer_open(request_sent):
    alice, _investigator, _incident, recipient, link = request_sent
    alice.client.post(f"/my/requests/{recipient.pk}/answer/", {"answer": "has_footage"})
    alice.client.post(link, {"clip": SimpleUploadedFile("porch.mp4", MP4, "video/mp4")})
    response = alice.client.post(f"/my/requests/{recipient.pk}/answer/", {"answer": "nothing"})
    assert response.status_code == 302
    assert answer_of(recipient) == "nothing"


def test_the_emailed_link_changes_the_answer_too_until_the_download(request_sent):
    alice, investigator, _incident, recipient, link = request_sent
    client = alice.client
    client.post(link, {"answer": "has_footage"})
    changed = client.post(link, {"answer": "nothing", "change": "1"}, follow=True)
    assert "Your answer is changed." in changed.content.decode()
    assert answer_of(recipient) == "nothing"
    # A plain second click (no "change") still changes nothing.
    again = client.post(link, {"answer": "has_footage"}, follow=True)
    assert "You have already answered this request." in again.content.decode()
    assert answer_of(recipient) == "nothing"
    client.post(link, {"answer": "has_footage", "change": "1"})
    upload_and_download(alice, investigator, recipient, link)
    page = client.get(link).content.decode()
    assert "this answer can no longer be changed" in page
    refused = client.post(link, {"answer": "nothing", "change": "1"}, follow=True)
    assert "The department has already downloaded the footage you sent" in (
        refused.content.decode()
    )
    assert answer_of(recipient) == "has_footage"


@pytest.mark.parametrize("answer", ["", "maybe", "has_footage\x00"])
def test_a_bad_answer_gets_a_message_and_changes_nothing(request_sent, answer):
    alice, _investigator, _incident, recipient, _link = request_sent
    response = alice.client.post(f"/my/requests/{recipient.pk}/answer/", {"answer": answer})
    assert response.status_code == 400
    assert "Choose one of the two answers." in response.content.decode()
    assert answer_of(recipient) == ""


def test_another_owners_request_is_not_found(request_sent, make_resident):
    _alice, _investigator, _incident, recipient, _link = request_sent
    bob = make_resident("concord", email="bob@example.org")
    response = bob.client.post(f"/my/requests/{recipient.pk}/answer/", {"answer": "nothing"})
    assert response.status_code == 404
    assert answer_of(recipient) == ""
    assert "CPD-12" not in bob.client.get("/my/requests/").content.decode()
