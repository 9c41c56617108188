"""A notice's emails are rendered once per language and the answer link filled in per copy
(portal.registry.emails.email_form): each email sent is the one rendered for its owner alone,
in the text and in the HTML, in English and in Spanish."""

from __future__ import annotations

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMessage
from django.utils import timezone
from django_tenants.utils import tenant_context

from portal.department.models import Notification, NotificationRecipient
from portal.department.tasks import EMAIL_TEMPLATES, answer_token, notify_area
from portal.registry.emails import email_form, email_message
from portal.registry.models import Participant
from tests.department.test_notify_delivery import area_notice, register_owners

OWNERS = [f"form{number}@emails.example.org" for number in range(4)]


def parts(message: EmailMessage) -> dict[str, object]:
    """What a reader gets of an email (its Message-ID and Date aside)."""
    return {
        "subject": message.subject,
        "body": message.body,
        "alternatives": [tuple(alternative) for alternative in message.alternatives],
        "to": message.to,
        "from": message.from_email,
        "reply_to": message.reply_to,
        "metadata": message.metadata,  # type: ignore[attr-defined]
        "tags": message.tags,  # type: ignore[attr-defined]
    }


@pytest.mark.django_db
def test_each_owner_gets_the_email_rendered_for_them_alone_in_their_language():
    from tenants.models import Department

    department = Department.objects.select_related("program", "branding").get(schema_name="concord")
    mail.outbox = []
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS, case="FORM-1"))
        notification.message = 'Check <the> "alley" & gate.'
        notification.save(update_fields=["message"])
        Participant.objects.filter(user__email__in=OWNERS[:2]).update(language="es")
        # An answer token holds the second it was signed: the one signed again below for the
        # comparison is the same only within that second.
        with time_machine.travel(timezone.now(), tick=False):
            assert notify_area(notification.pk) == len(OWNERS)
            assert len(mail.outbox) == len(OWNERS)
            for sent in mail.outbox:
                copy = NotificationRecipient.objects.select_related("participant").get(
                    notification=notification, participant__user__email=sent.to[0]
                )
                alone = email_message(
                    template=EMAIL_TEMPLATES[Notification.Kind.AREA],
                    to=sent.to[0],
                    language=copy.participant.language,
                    context={
                        "notification": notification,
                        "incident": notification.incident,
                        "answer_url": department.url(f"/answer/{answer_token(copy)}/"),
                    },
                    department=department,
                )
                assert parts(sent) == parts(alone)
                assert f"/answer/{answer_token(copy)}/" in sent.body
    languages = {sent.to[0]: sent.alternatives[0][0] for sent in mail.outbox}
    assert 'lang="es"' in languages[OWNERS[0]] and 'lang="en"' in languages[OWNERS[3]]


@pytest.mark.django_db
def test_a_footage_request_form_fills_in_as_rendered_alone():
    from tenants.models import Department

    department = Department.objects.select_related("program", "branding").get(schema_name="concord")
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS[:1], case="FORM-2"))
        context = {
            "notification": notification,
            "incident": notification.incident,
            "answer_url": department.url("/answer/{}/"),
        }
        template = EMAIL_TEMPLATES[Notification.Kind.FOOTAGE_REQUEST]
        token = "eyJyIjo0Mn0:1tX2a-:Zm9v_bar-baz"
        form = email_form(
            template=template,
            language="es",
            context=context,
            blank_in="answer_url",
            department=department,
        )
        alone = email_message(
            template=template,
            to="x@emails.example.org",
            language="es",
            context=context | {"answer_url": department.url(f"/answer/{token}/")},
            department=department,
        )
        assert parts(form.fill(to="x@emails.example.org", value=token)) == parts(alone)
        # Filling one copy leaves the form as it was for the next.
        assert form.blank in form.message.body and form.message.to == [""]


@pytest.mark.django_db
def test_a_form_refuses_a_value_it_cannot_fill_in_and_a_template_without_the_blank():
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS[:1], case="FORM-3"))
        form = email_form(
            template=EMAIL_TEMPLATES[Notification.Kind.AREA],
            language="en",
            context={
                "notification": notification,
                "incident": notification.incident,
                "answer_url": department.url("/answer/{}/"),
            },
            blank_in="answer_url",
            department=department,
        )
        for unsafe in ('"><script>', "a&b", "a b", ""):
            with pytest.raises(ValueError):
                form.fill(to="x@emails.example.org", value=unsafe)
        with pytest.raises(ValueError, match="shows no answer_url"):
            email_form(
                template="registry/email/lapsed",
                language="en",
                context={"answer_url": "https://x.example/{}/", "purge_after_days": 30},
                blank_in="answer_url",
                department=department,
            )


def mime(message: EmailMessage) -> bytes:
    """The email as an SMTP backend hands it over (message(), as bytes), its multipart
    boundary, Date and Message-ID (different for every email) set alike."""
    built = message.message()
    built.set_boundary("canvass-test-boundary")
    built.replace_header("Date", "Fri, 27 Nov 2026 07:00:00 -0000")
    built.replace_header("Message-ID", "<1.2.3@canvass.test>")
    return built.as_bytes(linesep="\r\n")


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    ("message", "value", "from_the_form"),
    [
        ('Revise <the> "alley" & gate, señor.', "eyJyIjo0Mn0:1tX2a-:Zm9v_bar-baz", True),
        # Filled in, the HTML line with the link passes 998 bytes: quoted-printable.
        ("Check.", "t" * 700, False),
        # A line of the message itself is too long: the form's own parts are quoted-printable.
        ("Check " + "x" * 1_200, "eyJyIjo0Mn0:1tX2a-:Zm9v_bar-baz", False),
    ],
    ids=["plain", "long-value", "long-message"],
)
def test_each_copy_is_handed_over_byte_for_byte_as_the_email_rendered_alone(
    language: str, message: str, value: str, from_the_form: bool
):
    """What an SMTP server receives: the MIME of a filled-in copy (built from the form's, when
    it can be) is the MIME of the email rendered for that owner alone."""
    from tenants.models import Department

    department = Department.objects.select_related("program", "branding").get(schema_name="concord")
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS[:1], case="FORM-4"))
        notification.message = message
        context = {
            "notification": notification,
            "incident": notification.incident,
            "answer_url": department.url("/answer/{}/"),
        }
        template = EMAIL_TEMPLATES[Notification.Kind.AREA]
        form = email_form(
            template=template,
            language=language,
            context=context,
            blank_in="answer_url",
            department=department,
        )
        filled = form.fill(to="owner@emails.example.org", value=value)
        alone = email_message(
            template=template,
            to="owner@emails.example.org",
            language=language,
            context=context | {"answer_url": department.url(f"/answer/{value}/")},
            department=department,
        )
        assert (form.mime is not None and form.mime.fits(value)) is from_the_form
        assert mime(filled) == mime(alone)
        # Changed after the fill: built as any email.
        filled.subject = "Revised"
        alone.subject = "Revised"
        assert mime(filled) == mime(alone)
    # The copies handed over do not share their MIME: each has its own headers and parts.
    first, second = form.fill(to="a@x.example", value="a1"), form.fill(to="b@x.example", value="b2")
    built = [first.message(), second.message()]
    assert built[0]["To"] == "a@x.example" and built[1]["To"] == "b@x.example"
    assert built[0].get_payload()[0] is not built[1].get_payload()[0]
