"""Every department's email goes out in its program's name, with its own Reply-To and its schema
in the provider's metadata: the allauth confirmation, the yearly notice and the area notice, in
two cities."""

from __future__ import annotations

import email
import email.policy
from datetime import timedelta
from secrets import token_urlsafe

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from portal.department.models import Incident
from portal.registry.models import Participant
from portal.registry.services import registrations_verify
from tenants.models import Department, Program
from tests.conftest import incident_post_data
from tests.email.conftest import CARROLLTON_FROM, CONCORD_FROM

pytestmark = pytest.mark.django_db

SIGNUP = {
    "password1": "a-long-and-unusual-passphrase",
    "password2": "a-long-and-unusual-passphrase",
}


def only_email_to(address):
    messages = [message for message in mail.outbox if message.to == [address]]
    assert len(messages) == 1, [m.to for m in mail.outbox]
    return messages[0]


def test_the_account_confirmation_comes_from_each_citys_program(
    reply_to, concord_client, carrollton_client
):
    concord_client.post("/accounts/signup/", {"email": "rosa@example.org", **SIGNUP})
    carrollton_client.post("/accounts/signup/", {"email": "sam@example.org", **SIGNUP})

    concord = only_email_to("rosa@example.org")
    assert concord.from_email == CONCORD_FROM
    assert concord.reply_to == ["cameras@concordpd.example.gov"]
    assert concord.metadata == {"department": "concord"}
    assert concord.tags == ["concord"]
    # The headers as they leave (SMTP): the display name is quoted, the Reply-To is there.
    headers = concord.message()
    assert headers["From"] == CONCORD_FROM
    assert headers["Reply-To"] == "cameras@concordpd.example.gov"

    carrollton = only_email_to("sam@example.org")
    assert carrollton.from_email == CARROLLTON_FROM
    assert carrollton.reply_to == ["partnership@carrolltonpd.example.gov"]
    assert carrollton.metadata == {"department": "carrollton"}


def test_without_a_reply_to_address_the_email_has_none(concord_client):
    concord_client.post("/accounts/signup/", {"email": "rosa@example.org", **SIGNUP})
    message = only_email_to("rosa@example.org")
    assert message.from_email == CONCORD_FROM
    assert message.reply_to == []
    assert "Reply-To" not in message.message()


def test_the_yearly_notice_comes_from_each_citys_program(
    reply_to, make_resident, site_data, django_capture_on_commit_callbacks
):
    registered = timezone.now() - timedelta(days=400)
    for schema, address in (("concord", "alice@example.org"), ("carrollton", "bob@example.org")):
        make_resident(schema, email=address)
        with schema_context(schema):
            participant = Participant.objects.get(user__email=address)
            participant.sites.create(
                kind="home",
                address="1 Main St",
                latitude=0,
                longitude=0,
                contact_name="Owner",
                contact_method="phone",
                terms_version=1,
                terms_accepted_at=registered,
            )
            Participant.objects.filter(pk=participant.pk).update(confirmed_at=registered)
    now = timezone.now()
    for schema in ("concord", "carrollton"):
        with (
            time_machine.travel(now, tick=False),
            tenant_context(Department.objects.get(schema_name=schema)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            registrations_verify(
                program=Program.objects.get(department__schema_name=schema), now=now
            )
    concord = only_email_to("alice@example.org")
    carrollton = only_email_to("bob@example.org")
    assert (concord.from_email, concord.reply_to) == (
        CONCORD_FROM,
        ["cameras@concordpd.example.gov"],
    )
    assert (carrollton.from_email, carrollton.reply_to) == (
        CARROLLTON_FROM,
        ["partnership@carrolltonpd.example.gov"],
    )
    assert concord.metadata == {"department": "concord"}
    assert carrollton.metadata == {"department": "carrollton"}


def test_the_area_notice_comes_from_the_program_with_its_reply_to(
    reply_to, make_resident, site_data, make_staff, django_capture_on_commit_callbacks
):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    investigator = make_staff("concord", "investigator")
    investigator.client.post("/department/incidents/", incident_post_data())
    with schema_context("concord"):
        incident = Incident.objects.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = investigator.client.post(
            f"/department/incidents/{incident.pk}/notify/", {"message": "", "key": token_urlsafe()}
        )
    assert response.status_code == 302
    notice = only_email_to("alice@example.org")
    assert notice.from_email == CONCORD_FROM
    assert notice.reply_to == ["cameras@concordpd.example.gov"]
    assert notice.metadata == {"department": "concord"}


def test_a_program_name_with_quotes_commas_and_accents_stays_one_display_name(concord_client):
    from tenants.models import Branding

    Branding.objects.filter(department__schema_name="concord").update(
        display_name='Concord, "Cámaras" Registry'
    )
    concord_client.post("/accounts/signup/", {"email": "rosa@example.org", **SIGNUP})
    raw = only_email_to("rosa@example.org").message().as_bytes()
    # Parsed as a mail client would: one address, the comma and quotes inside its name.
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    addresses = parsed["From"].addresses
    assert [(a.display_name, a.addr_spec) for a in addresses] == [
        ('Concord, "Cámaras" Registry', "no-reply@canvass.localhost")
    ]


def test_a_line_break_in_a_program_name_never_reaches_a_header():
    from tenants.mail import department_sender
    from tenants.models import Department

    department = Department.objects.select_related("branding").get(schema_name="concord")
    department.branding.display_name = "Concord\r\nBcc: someone@example.org"
    assert department_sender(department) == (
        '"Concord Bcc: someone@example.org" <no-reply@canvass.localhost>'
    )
