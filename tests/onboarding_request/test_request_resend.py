"""Sending the confirmation email again from the "check your email" page: to the address given
only, while the request waits, a few times an hour."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from onboarding.models import ProgramRequest

pytestmark = pytest.mark.django_db


@pytest.fixture
def resend(platform_client, django_capture_on_commit_callbacks):
    def post(*, language: str = "en", ip: str = "198.51.100.7"):
        with django_capture_on_commit_callbacks(execute=True):
            return platform_client.post(
                "/request/sent/again/", REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=language
            )

    return post


def test_the_email_is_sent_again_to_the_same_address(submit, resend, platform_client):
    submit()
    response = resend()
    assert response.status_code == 302 and response["Location"] == "/request/sent/"
    assert "We have sent the email again." in platform_client.get("/request/sent/").text
    assert [email.to for email in mail.outbox] == [["alice@springfield-il.gov"]] * 2
    # The same email but for its signed link, whose timestamp may differ by a second.
    first, again = (re.sub(r"/confirm/\S+", "/confirm/<link>", m.body) for m in mail.outbox)
    assert first == again
    assert ProgramRequest.objects.get().events.filter(kind="emailed").count() == 2


def test_the_email_is_sent_again_three_times_an_hour(submit, resend):
    submit()
    for _number in range(3):
        assert resend().status_code == 302
    refused = resend(ip="203.0.113.5")  # another address, the same request
    assert refused.status_code == 429
    assert "The email has been sent again several times already." in refused.text
    assert len(mail.outbox) == 4


def test_the_limit_is_explained_in_spanish(submit, resend):
    submit()
    for _number in range(3):
        resend()
    refused = resend(language="es")
    assert refused.status_code == 429
    assert "El correo ya se ha enviado de nuevo varias veces." in refused.text


def test_nothing_is_sent_again_once_confirmed(submit, resend):
    submit()
    ProgramRequest.objects.update(status="new", email_confirmed_at="2026-11-26T12:00Z")
    assert resend().status_code == 302
    assert len(mail.outbox) == 1


def test_without_a_request_it_looks_the_same_and_sends_nothing(submit, resend):
    submit(homepage="bot")
    assert resend().status_code == 302
    assert not mail.outbox


def test_a_get_sends_nothing(submit, platform_client):
    submit()
    assert platform_client.get("/request/sent/again/").status_code == 405
    assert len(mail.outbox) == 1
