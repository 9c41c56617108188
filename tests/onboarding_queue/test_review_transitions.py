"""Each status step a reviewer takes: allowed only as ProgramRequest.TRANSITIONS says, recorded in
the request's history and the platform audit log, and emailed to the requester in the language
of the request; a refused step writes nothing and emails nobody."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context
from onboarding.models import ProgramRequest, ProgramRequestEvent
from onboarding.review import program_request_transition

from console.models import PlatformAuditEntry
from tests.onboarding_queue.conftest import rows_written, status_post

pytestmark = pytest.mark.django_db

Status = ProgramRequest.Status


def status_of(program_request: ProgramRequest) -> str:
    with schema_context("public"):
        return ProgramRequest.objects.get(pk=program_request.pk).status


@pytest.mark.parametrize(
    ("start", "to_status", "subject"),
    [
        (Status.NEW, Status.IN_REVIEW, "Your Canvass program request is in review"),
        (Status.NEW, Status.APPROVED, "Your Canvass program request is approved"),
        (Status.IN_REVIEW, Status.APPROVED, "Your Canvass program request is approved"),
        (Status.IN_REVIEW, Status.DECLINED, "Your Canvass program request is declined"),
        (Status.APPROVED, Status.IN_REVIEW, "Your Canvass program request is in review again"),
        (Status.DECLINED, Status.IN_REVIEW, "Your Canvass program request is in review again"),
    ],
)
def test_a_step_records_its_history_and_audit_entry_and_emails_the_requester_once(
    alice, make_request, django_capture_on_commit_callbacks, start, to_status, subject
):
    program_request = make_request(status=start)

    with django_capture_on_commit_callbacks(execute=True):
        response = status_post(alice, program_request, to_status, "Checked with the city.")

    assert response.status_code == 302
    assert response["Location"] == f"/console/requests/{program_request.pk}/"
    assert status_of(program_request) == to_status
    with schema_context("public"):
        step = ProgramRequestEvent.objects.get(request=program_request, kind="status")
        assert (step.from_status, step.to_status) == (start, to_status)
        assert step.actor.email == alice.email
        assert step.text == "Checked with the city."
        entry = PlatformAuditEntry.objects.get(action="program_request")
        assert entry.actor_email == alice.email
        assert entry.detail["what"] == "status"
        assert entry.detail["request"] == program_request.pk
        assert entry.detail["to"] == to_status
        assert (
            ProgramRequestEvent.objects.filter(request=program_request, kind="emailed").count() == 1
        )
    assert len(mail.outbox) == 1
    (email,) = mail.outbox
    assert email.to == ["chief@springfieldpd.gov"]
    assert email.subject == subject
    assert "Hello Clancy Wiggum," in email.body
    assert f"Program request #{program_request.pk}: Springfield, IL" in email.body


def test_the_declined_email_gives_the_reason(
    alice, make_request, django_capture_on_commit_callbacks
):
    program_request = make_request(status=Status.IN_REVIEW)

    with django_capture_on_commit_callbacks(execute=True):
        status_post(alice, program_request, "declined", "We serve police departments only.")

    (email,) = mail.outbox
    assert "declined the program request of Springfield Police Department" in email.body
    assert "Why we declined it:\nWe serve police departments only." in email.body


def test_a_spanish_request_is_answered_in_spanish(
    alice, make_request, django_capture_on_commit_callbacks
):
    program_request = make_request(language="es", agency_name="Policía de Springfield")

    with django_capture_on_commit_callbacks(execute=True):
        status_post(alice, program_request, "in_review")
        status_post(alice, program_request, "approved")
        status_post(alice, program_request, "declined", "Fuera de nuestra zona.")

    subjects = [email.subject for email in mail.outbox]
    assert subjects == [
        "Su solicitud de programa de Canvass está en revisión",
        "Su solicitud de programa de Canvass está aprobada",
        "Su solicitud de programa de Canvass fue rechazada",
    ]
    assert "Hola, Clancy Wiggum:" in mail.outbox[0].body
    assert "El equipo de Canvass está revisando ahora" in mail.outbox[0].body
    assert (
        "Buenas noticias: la solicitud de programa de Policía de Springfield" in mail.outbox[1].body
    )
    assert "Por qué la rechazamos:\nFuera de nuestra zona." in mail.outbox[2].body
    assert "Solicitud de programa n.º" in mail.outbox[2].body
    assert "Hello" not in "".join(email.body for email in mail.outbox)


def test_the_console_in_spanish_still_emails_an_english_request_in_english(
    alice, make_request, django_capture_on_commit_callbacks
):
    program_request = make_request(language="en")

    with django_capture_on_commit_callbacks(execute=True):
        alice.client.post(
            f"/console/requests/{program_request.pk}/status/",
            {"to_status": "approved"},
            HTTP_ACCEPT_LANGUAGE="es",
        )

    assert mail.outbox[0].subject == "Your Canvass program request is approved"


@pytest.mark.parametrize(
    ("start", "to_status", "said"),
    [
        (
            Status.UNCONFIRMED,
            Status.IN_REVIEW,
            "A request that is email not confirmed cannot become in review",
        ),
        (Status.UNCONFIRMED, Status.NEW, "Only the requester&#x27;s email confirmation"),
        (Status.NEW, Status.PROVISIONED, "Only provisioning makes a request live"),
        (Status.APPROVED, Status.PROVISIONED, "Only provisioning makes a request live"),
        (Status.DECLINED, Status.APPROVED, "A request that is declined cannot become approved"),
        (Status.PROVISIONED, Status.IN_REVIEW, "A request that is live cannot become in review"),
        (Status.PROVISIONED, Status.DECLINED, "A request that is live cannot become declined"),
        (Status.IN_REVIEW, Status.IN_REVIEW, "The request is already in review"),
        (Status.NEW, Status.UNCONFIRMED, "is not a status a request can be given"),
        (Status.NEW, "archived", "That is not a status a request can be given"),
    ],
)
def test_a_step_not_allowed_is_refused_and_writes_nothing(
    alice, make_request, django_capture_on_commit_callbacks, start, to_status, said
):
    program_request = make_request(status=start)
    before = rows_written()

    with django_capture_on_commit_callbacks(execute=True):
        response = status_post(alice, program_request, to_status, "A reason.")

    assert response.status_code == 400
    assert said in response.content.decode()
    assert status_of(program_request) == start
    assert rows_written() == before
    assert mail.outbox == []


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_declining_needs_a_reason(alice, make_request, django_capture_on_commit_callbacks, reason):
    program_request = make_request()
    before = rows_written()

    with django_capture_on_commit_callbacks(execute=True):
        response = status_post(alice, program_request, "declined", reason)

    assert response.status_code == 400
    assert "Say why the request is declined: the requester receives the reason." in (
        response.content.decode()
    )
    assert status_of(program_request) == Status.NEW
    assert rows_written() == before
    assert mail.outbox == []


def test_a_reason_too_long_is_refused(alice, make_request):
    program_request = make_request()
    before = rows_written()

    response = status_post(alice, program_request, "declined", "x" * 2001)

    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    assert rows_written() == before


def test_a_second_approval_of_a_request_changed_meanwhile_is_told_and_emails_nobody(
    alice, bob, make_request, django_capture_on_commit_callbacks
):
    """Bob's page was loaded while the request was new; Alice approved it before Bob clicked."""
    program_request = make_request()
    assert "Approve" in bob.client.get(f"/console/requests/{program_request.pk}/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert status_post(alice, program_request, "approved").status_code == 302
        before = rows_written()
        second = status_post(bob, program_request, "approved")

    assert second.status_code == 400
    assert "The request is already approved: nothing changed." in second.content.decode()
    assert rows_written() == before
    assert len(mail.outbox) == 1


def test_the_service_reads_the_status_under_its_lock_not_from_the_callers_copy(make_request, alice):
    """The caller's object still says NEW; the row says DECLINED: the row decides."""
    program_request = make_request()
    with schema_context("public"):
        ProgramRequest.objects.filter(pk=program_request.pk).update(status=Status.DECLINED)

    with pytest.raises(ValidationError, match="declined cannot become approved"):
        program_request_transition(
            program_request=program_request, to_status=Status.APPROVED, actor=None
        )
    assert status_of(program_request) == Status.DECLINED


def test_a_post_without_the_csrf_token_is_refused(alice, make_request, host_client):
    from django.test import Client

    program_request = make_request()
    strict = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    strict.cookies = alice.client.cookies
    before = rows_written()

    assert (
        strict.post(
            f"/console/requests/{program_request.pk}/status/", {"to_status": "approved"}
        ).status_code
        == 403
    )
    assert (
        strict.post(f"/console/requests/{program_request.pk}/notes/", {"text": "Hello"}).status_code
        == 403
    )
    assert status_of(program_request) == Status.NEW
    assert rows_written() == before
