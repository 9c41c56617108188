"""The emailed confirmation link: a GET only shows a button (mail scanners follow links), a POST
puts the request in the vendor's queue and emails the requester and the vendor's reviewers;
tampered, expired and used links answer with a clear page, never a 500."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from onboarding.models import ProgramRequest, ProgramRequestEvent

from console.models import VendorRole, VendorStaff
from tenants.signing import Link, link_sign
from tests.onboarding_request.conftest import VENDOR

pytestmark = pytest.mark.django_db


def confirm_path(body: str) -> str:
    match = re.search(r"http://localhost(?::\d+)?(/request/confirm/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


@pytest.fixture
def link(submit) -> str:
    assert submit().status_code == 302
    path = confirm_path(mail.outbox[0].body)
    mail.outbox.clear()
    return path


def test_following_the_link_shows_a_button_and_changes_nothing(link, platform_client):
    page = platform_client.get(link)
    assert page.status_code == 200
    assert "Confirm my request" in page.text and 'method="post"' in page.text
    request = ProgramRequest.objects.get()
    assert request.status == ProgramRequest.Status.UNCONFIRMED
    assert request.email_confirmed_at is None
    assert not mail.outbox


def test_pressing_the_button_confirms_and_emails_requester_and_vendor(
    link, platform_client, django_capture_on_commit_callbacks
):
    support = get_user_model().objects.create_user(
        username="support@vendor.example", email="support@vendor.example", is_staff=True
    )
    VendorStaff.objects.create(user=support, role=VendorRole.SUPPORT)
    with django_capture_on_commit_callbacks(execute=True):
        page = platform_client.post(link)
    assert page.status_code == 200
    assert "Request confirmed" in page.text
    request = ProgramRequest.objects.get()
    assert request.status == ProgramRequest.Status.NEW
    assert request.email_confirmed_at is not None
    confirmed = request.events.get(kind=ProgramRequestEvent.Kind.CONFIRMED)
    assert (confirmed.from_status, confirmed.to_status) == ("unconfirmed", "new")
    by_recipient = {email.to[0]: email for email in mail.outbox}
    # The requester, and the vendor staff who may provision departments (not support).
    assert set(by_recipient) == {"alice@springfield-il.gov", VENDOR}
    received = by_recipient["alice@springfield-il.gov"]
    assert received.subject == "We received your Canvass program request"
    assert "within 3 business days" in received.body
    vendor = by_recipient[VENDOR]
    assert vendor.subject == "New program request: Springfield Police Department (Springfield, IL)"
    assert re.search(rf"http://localhost(:\d+)?/console/requests/{request.pk}/\n", vendor.body)


def test_a_spanish_requester_is_answered_in_spanish_and_the_vendor_in_english(
    submit, platform_client, django_capture_on_commit_callbacks
):
    submit(language="es")
    path = confirm_path(mail.outbox[0].body)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = platform_client.post(path, HTTP_ACCEPT_LANGUAGE="es")
    assert "Solicitud confirmada" in page.text
    by_recipient = {email.to[0]: email for email in mail.outbox}
    assert by_recipient["alice@springfield-il.gov"].subject == (
        "Recibimos su solicitud de programa de Canvass"
    )
    assert by_recipient[VENDOR].subject.startswith("New program request:")


def test_a_second_use_says_already_confirmed(link, platform_client):
    platform_client.post(link)
    mail.outbox.clear()
    for response in (platform_client.get(link), platform_client.post(link)):
        assert response.status_code == 200
        assert "This request was already confirmed" in response.text
    assert not mail.outbox
    assert ProgramRequest.objects.get().events.filter(kind="confirmed").count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_link_is_refused_clearly(link, platform_client, method):
    token = link.split("/")[3]
    tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for path in (f"/request/confirm/{tampered}/", "/request/confirm/x/", "/request/confirm/%00/"):
        response = getattr(platform_client, method)(path)
        assert response.status_code == 400
        assert "This link does not work" in response.text
    assert ProgramRequest.objects.get().status == ProgramRequest.Status.UNCONFIRMED


def test_a_link_signed_for_something_else_is_refused(link, platform_client):
    request = ProgramRequest.objects.get()
    other = link_sign(Link.ANSWER, {"r": request.pk})
    assert platform_client.post(f"/request/confirm/{other}/").status_code == 400
    missing = link_sign(Link.PROGRAM_REQUEST_CONFIRM, {"r": request.pk + 1000})
    assert platform_client.post(f"/request/confirm/{missing}/").status_code == 400
    assert ProgramRequest.objects.get().status == ProgramRequest.Status.UNCONFIRMED


def test_an_expired_link_is_refused_clearly(link, platform_client):
    with time_machine.travel(timezone.now() + dt.timedelta(days=7, minutes=1)):
        for response in (platform_client.get(link), platform_client.post(link)):
            assert response.status_code == 410
            assert "This link has expired" in response.text
    assert ProgramRequest.objects.get().status == ProgramRequest.Status.UNCONFIRMED


def test_an_expired_link_is_explained_in_spanish(link, platform_client):
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        response = platform_client.get(link, HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 410
    assert "Este enlace ha caducado" in response.text


def test_a_link_still_works_on_its_last_day(link, platform_client):
    with time_machine.travel(timezone.now() + dt.timedelta(days=6, hours=23)):
        assert platform_client.post(link).status_code == 200
    assert ProgramRequest.objects.get().status == ProgramRequest.Status.NEW
