"""The email provider's webhook (Postmark's documented bounce and spam-complaint payloads, HTTP
basic auth) on the platform's host marks the owner's address undeliverable in the city the
email was sent for, and only there; staff see it, notices skip it, and the owner clears it."""

from __future__ import annotations

import base64
import json
import logging
from secrets import token_urlsafe

import pytest
from allauth.account.signals import email_changed
from django.core import mail
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portal.department.models import Incident
from portal.registry.models import Participant
from tests.conftest import incident_post_data
from tests.email.conftest import SHARED_EMAIL

pytestmark = pytest.mark.django_db

URL = "/anymail/postmark/tracking/"
SECRET = "postmark:a-long-webhook-secret"


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def postmark_bounce(*, email=SHARED_EMAIL, department="concord", **overrides):
    """A Postmark bounce webhook as documented (postmarkapp.com/developer/webhooks/bounce-webhook),
    with the metadata Canvass sends with every email."""
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": "HardBounce",
        "TypeCode": 1,
        "Name": "Hard bounce",
        "Tag": department,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"department": department},
        "ServerID": 23,
        "Description": (
            "The server was unable to deliver your message (ex: unknown user, mailbox not found)."
        ),
        "Details": f"smtp;550 5.1.1 The email account you tried to reach does not exist: {email}",
        "Email": email,
        "From": "no-reply@canvass.localhost",
        "BouncedAt": "2026-11-20T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "Concord Police Department: check your camera",
        "Content": "<Full dump of bounce>",
    } | overrides


@pytest.fixture
def webhook(settings, platform_client):
    settings.EMAIL_PROVIDER = "postmark"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": [SECRET]}

    def post(payload, *, auth=SECRET, client=platform_client):
        body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
        headers = {"HTTP_AUTHORIZATION": basic(auth)} if auth else {}
        return client.post(URL, body, content_type="application/json", **headers)

    return post


def mark(schema, email=SHARED_EMAIL):
    with schema_context(schema):
        return (
            Participant.objects.filter(user__email=email)
            .values_list(
                "email_undeliverable_at", "email_undeliverable_reason", "email_undeliverable_detail"
            )
            .get()
        )


def test_a_bounce_tagged_concord_marks_only_concords_owner(pat_in_both, webhook):
    response = webhook(postmark_bounce(department="concord"))
    assert response.status_code == 200
    at, reason, detail = mark("concord")
    assert at is not None and at.isoformat().startswith("2026-11-20T16:33:54")
    assert reason == "bounced"
    assert detail.startswith("The server was unable to deliver your message")
    # The same address, the same ids, in Carrollton: untouched.
    assert mark("carrollton") == (None, "", "")


def test_a_complaint_tagged_carrollton_marks_only_carrollton(pat_in_both, webhook):
    complaint = postmark_bounce(
        department="carrollton",
        RecordType="SpamComplaint",
        Type="SpamComplaint",
        TypeCode=512,
        Name="Spam complaint",
        Description="The subscriber explicitly marked this message as spam.",
    )
    assert webhook(complaint).status_code == 200
    assert mark("carrollton")[1] == "complained"
    assert mark("concord") == (None, "", "")


def test_a_second_delivery_of_the_same_bounce_changes_nothing(pat_in_both, webhook):
    assert webhook(postmark_bounce()).status_code == 200
    first = mark("concord")
    later = postmark_bounce(BouncedAt="2026-11-21T08:00:00Z", Description="Another")
    assert webhook(postmark_bounce()).status_code == 200
    assert webhook(later).status_code == 200
    assert mark("concord") == first


def test_a_soft_bounce_or_a_delivery_marks_nothing(pat_in_both, webhook):
    assert webhook(postmark_bounce(Type="SoftBounce", TypeCode=4096)).status_code == 200
    delivery = {
        "RecordType": "Delivery",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Recipient": SHARED_EMAIL,
        "DeliveredAt": "2026-11-20T16:33:54Z",
        "Metadata": {"department": "concord"},
        "Tag": "concord",
    }
    assert webhook(delivery).status_code == 200
    assert mark("concord") == (None, "", "")


@pytest.mark.parametrize("auth", [None, "postmark:wrong-secret", "someone:a-long-webhook-secret"])
def test_a_call_without_the_secret_is_refused(pat_in_both, webhook, auth):
    response = webhook(postmark_bounce(), auth=auth)
    assert response.status_code == 400
    assert mark("concord") == (None, "", "")


@pytest.mark.parametrize(
    "body", ["this is not json", "[1, 2, 3]", '"a string"', '{"RecordType": "Bounce", "Type": []}']
)
def test_a_malformed_payload_is_a_400_not_a_500(pat_in_both, webhook, body):
    response = webhook(body)
    assert response.status_code == 400
    assert mark("concord") == (None, "", "")


def test_a_report_for_an_unknown_department_is_logged_and_ignored(pat_in_both, webhook, caplog):
    with caplog.at_level(logging.WARNING, logger="portal.registry.bounces"):
        for department in ("springfield", "public", ""):
            assert webhook(postmark_bounce(department=department)).status_code == 200
        untagged = postmark_bounce()
        del untagged["Metadata"]
        assert webhook(untagged).status_code == 200
    assert mark("concord") == (None, "", "") and mark("carrollton") == (None, "", "")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'springfield'" in message for message in warnings)
    assert len(warnings) == 4
    # Logs name no resident's address.
    assert not any(SHARED_EMAIL in message for message in warnings)


def test_the_webhook_answers_on_the_platform_host_only(pat_in_both, webhook, concord_client):
    response = webhook(postmark_bounce(), client=concord_client)
    assert response.status_code == 404
    assert mark("concord") == (None, "", "")


def test_only_the_configured_providers_webhook_answers(
    pat_in_both, webhook, platform_client, settings
):
    auth = {"HTTP_AUTHORIZATION": basic(SECRET)}
    body = json.dumps(postmark_bounce())
    for provider in ("mailgun", "amazon_ses", "mailersend", "nobody", "scaleway"):
        response = platform_client.post(
            f"/anymail/{provider}/tracking/", body, content_type="application/json", **auth
        )
        assert response.status_code == 404, provider
    settings.EMAIL_PROVIDER = "smtp"
    assert webhook(postmark_bounce()).status_code == 404
    assert mark("concord") == (None, "", "")
    settings.EMAIL_PROVIDER = "postmark"
    assert platform_client.get(URL, **auth).status_code == 405


@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
            lambda children: (
                st.lists(children, max_size=4)
                | st.dictionaries(
                    st.sampled_from(
                        ["RecordType", "Type", "Email", "Metadata", "BouncedAt", "ID", "Tag"]
                    )
                    | st.text(max_size=10),
                    children,
                    max_size=6,
                )
            ),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_no_body_makes_the_webhook_fail_with_a_server_error(pat_in_both, webhook, body):
    response = webhook(body)
    assert response.status_code in (200, 400)


@pytest.fixture
def case(make_staff):
    investigator = make_staff("concord", "investigator")
    investigator.client.post("/department/incidents/", incident_post_data())
    with schema_context("concord"):
        return investigator, Incident.objects.get()


def test_staff_see_email_undeliverable_and_notices_skip_the_owner(
    pat_in_both, webhook, case, make_resident, site_data, django_capture_on_commit_callbacks
):
    neighbour = make_resident("concord", email="neighbour@example.org")
    neighbour.client.post("/register/", site_data(address="79 Union St S", latitude="35.4082"))
    investigator, incident = case
    canvass = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert "Email undeliverable" not in canvass

    assert webhook(postmark_bounce()).status_code == 200
    canvass = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert canvass.count("Email undeliverable: call") == 1

    with schema_context("concord"):
        site = Participant.objects.get(user__email=SHARED_EMAIL).sites.get()
    reveal = investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/reveal/", {"note": ""}
    )
    page = reveal.content.decode()
    assert reveal.status_code == 200
    assert "Email undeliverable" in page and "it bounced" in page
    assert "Nov. 20, 2026" in page

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{incident.pk}/notify/", {"message": "", "key": token_urlsafe()}
        )
    assert [m.to for m in mail.outbox] == [["neighbour@example.org"]]

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = investigator.client.post(
            f"/department/incidents/{incident.pk}/sites/{site.pk}/request/",
            {"message": ""},
            follow=True,
        )
    assert "no request was sent" in response.content.decode()
    assert mail.outbox == []


def test_the_spanish_console_says_it_in_spanish(pat_in_both, webhook, case):
    investigator, incident = case
    webhook(postmark_bounce())
    investigator.client.cookies["django_language"] = "es"
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert "Correo no entregable: llame" in page


def test_a_new_address_or_a_confirmed_one_clears_the_mark(pat_in_both, webhook):
    from allauth.account.models import EmailAddress
    from allauth.account.signals import email_confirmed

    webhook(postmark_bounce())
    with schema_context("concord"):
        user = Participant.objects.get(user__email=SHARED_EMAIL).user
        email_confirmed.send(
            sender=EmailAddress, request=None, email_address=EmailAddress.objects.get(user=user)
        )
    assert mark("concord")[0] is None
    # The same report delivered again later marks nothing: the owner confirmed since.
    assert webhook(postmark_bounce()).status_code == 200
    assert mark("concord")[0] is None
    # A new bounce after that does.
    webhook(postmark_bounce(BouncedAt="2099-01-01T00:00:00Z"))
    assert mark("concord")[0] is not None
    with schema_context("concord"):
        email_changed.send(
            sender=EmailAddress,
            request=None,
            user=user,
            from_email_address=None,
            to_email_address=None,
        )
    assert mark("concord")[0] is None


def test_confirming_the_registration_from_the_emailed_link_clears_the_mark(
    pat_in_both, webhook, concord_client
):
    from portal.registry.services import verification_token

    webhook(postmark_bounce())
    with schema_context("concord"):
        token = verification_token(Participant.objects.get(user__email=SHARED_EMAIL))
    assert concord_client.post(f"/verify/{token}/").status_code == 200
    assert mark("concord")[0] is None


def test_a_late_report_from_before_the_owner_confirmed_marks_nothing(pat_in_both, webhook):
    from allauth.account.models import EmailAddress
    from allauth.account.signals import email_confirmed

    with schema_context("concord"):
        address = EmailAddress.objects.get(email=SHARED_EMAIL)
        email_confirmed.send(sender=EmailAddress, request=None, email_address=address)
    # Bounced in 2026-11-20, reported only now (after the confirmation): the address works.
    assert webhook(postmark_bounce()).status_code == 200
    assert mark("concord")[0] is None
