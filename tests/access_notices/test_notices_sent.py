"""Owners are told of each access to their data, from the audit trail: at once in their
language with the offence type's label and the case number, or in one summary a week; never
twice, never the staff member's name, never to an owner who left."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.access_notices.models import AccessNotice, NoticePreference
from portal.access_notices.services import week_start
from portal.registry.models import Participant, Site
from portal.registry.services import participant_opt_out
from tenants.models import Department
from tests.access_notices.helpers import (
    footage_request,
    incident_open,
    notices_to,
    owner,
    reveal,
    run,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def investigator_email(make_staff) -> str:
    return make_staff("concord", "investigator", email="detective.hale@concord.example.org").email


def test_a_reveal_is_told_at_once_in_spanish_with_the_category_and_case_number(
    make_resident, site_data, investigator_email
):
    alice = owner(make_resident, site_data, language="es")
    incident = incident_open("concord", investigator_email, case_number="CPD-2026-0142")
    reveal("concord", investigator_email, incident, alice.site_id)

    assert run() == "1 notices collected, 1 emails sent"

    (message,) = notices_to("alice@example.org")
    assert message.subject.startswith("La policía vio sus datos de contacto")
    assert "Motivo: Burglary, caso CPD-2026-0142." in message.body
    assert "Departamento de Policía de Concord" in message.body  # Department.name_es
    assert "http://concord.localhost" in message.body and "/my/access/" in message.body
    # From the department, and nothing names the staff member.
    assert "Concord" in message.from_email
    assert "hale" not in message.body.lower() and "hale" not in message.subject.lower()
    assert "investigator" not in message.body.lower()


def test_the_job_run_twice_sends_once(make_resident, site_data, investigator_email):
    alice = owner(make_resident, site_data)
    incident = incident_open("concord", investigator_email)
    reveal("concord", investigator_email, incident, alice.site_id)
    footage_request("concord", investigator_email, incident, alice.site_id)

    run()
    run()

    messages = notices_to("alice@example.org")
    assert len(messages) == 2
    assert {m.subject.split(":")[0] for m in messages} == {
        "Police saw your contact details",
        "Police asked you for footage",
    }
    with schema_context("concord"):
        assert AccessNotice.objects.filter(status=AccessNotice.Status.SENT).count() == 2


def test_a_notice_claimed_by_a_run_that_stopped_is_never_sent_again(
    make_resident, site_data, investigator_email
):
    """A crash between the committed claim and the email: the notice stays claimed and unsent,
    and no later run sends it (at most once, as the department's own notices)."""
    alice = owner(make_resident, site_data)
    incident = incident_open("concord", investigator_email)
    reveal("concord", investigator_email, incident, alice.site_id)
    with schema_context("concord"):
        from portal.access_notices.services import notices_collect

        notices_collect()
        AccessNotice.objects.update(claimed_at=timezone.now())
    run()
    assert notices_to("alice@example.org") == []


def test_a_mail_server_failure_is_sent_at_the_next_run(
    make_resident, site_data, investigator_email, monkeypatch
):
    alice = owner(make_resident, site_data)
    incident = incident_open("concord", investigator_email)
    reveal("concord", investigator_email, incident, alice.site_id)
    from portal.access_notices import services

    def refused(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError

    with monkeypatch.context() as patched:
        patched.setattr(services, "email_send", refused)
        assert run() == "1 notices collected, 0 emails sent"
    assert run() == "0 notices collected, 1 emails sent"
    assert len(notices_to("alice@example.org")) == 1


def test_a_weekly_owner_gets_one_summary_at_the_weeks_end(
    make_resident, site_data, investigator_email
):
    alice = owner(make_resident, site_data)
    with schema_context("concord"):
        NoticePreference.objects.create(
            participant_id=alice.resident.participant.pk,
            frequency=NoticePreference.Frequency.WEEKLY,
        )
    first = incident_open("concord", investigator_email, case_number="CPD-2026-0201")
    second = incident_open("concord", investigator_email, case_number="CPD-2026-0202")
    reveal("concord", investigator_email, first, alice.site_id)
    reveal("concord", investigator_email, second, alice.site_id)
    footage_request("concord", investigator_email, second, alice.site_id)

    now = timezone.now()
    run(now=now)
    assert notices_to("alice@example.org") == []

    department = Department.objects.get(schema_name="concord")
    next_monday = week_start(now, department) + timedelta(days=7, minutes=30)
    run(now=next_monday - timedelta(hours=1))  # Sunday night: the week is not over
    assert notices_to("alice@example.org") == []
    run(now=next_monday)
    run(now=next_monday + timedelta(minutes=5))

    (digest,) = notices_to("alice@example.org")
    assert digest.subject == "Your weekly summary: 3 accesses to your registration"
    assert "CPD-2026-0201" in digest.body and "CPD-2026-0202" in digest.body
    assert digest.body.count("Police saw your contact details") == 2
    assert digest.body.count("Police asked you for footage") == 1


def test_an_owner_who_opted_out_gets_nothing(make_resident, site_data, investigator_email):
    alice = owner(make_resident, site_data)
    bob = owner(make_resident, site_data, email="bob@example.org")
    incident = incident_open("concord", investigator_email)
    reveal("concord", investigator_email, incident, alice.site_id)
    reveal("concord", investigator_email, incident, bob.site_id)
    with schema_context("concord"):
        participant_opt_out(participant=alice.resident.participant, close_account=False)
        participant_opt_out(participant=bob.resident.participant, close_account=True)
    mail.outbox = []

    run()

    assert notices_to("alice@example.org") == [] and notices_to("bob@example.org") == []
    with schema_context("concord"):
        skipped = AccessNotice.objects.values_list("skipped", flat=True)
        assert list(skipped) == [AccessNotice.Skipped.LEFT]  # bob's went with his account


def test_an_owner_without_an_email_address_is_skipped_with_a_log_line(
    make_resident, site_data, investigator_email, caplog
):
    alice = owner(make_resident, site_data)
    incident = incident_open("concord", investigator_email)
    reveal("concord", investigator_email, incident, alice.site_id)
    with schema_context("concord"):
        user = Participant.objects.get(pk=alice.resident.participant.pk).user
        user.email = ""
        user.save(update_fields=["email"])
    with caplog.at_level(logging.INFO, logger="portal.access_notices.services"):
        assert run() == "1 notices collected, 0 emails sent"
    assert "not sent: The owner has no email address" in caplog.text
    with schema_context("concord"):
        assert AccessNotice.objects.get().skipped == AccessNotice.Skipped.NO_EMAIL


def test_same_ids_in_two_cities_concords_job_never_emails_carrolltons_owner(
    make_resident, site_data, investigator_email, make_staff
):
    alice = owner(make_resident, site_data)
    carla = owner(make_resident, site_data, "carrollton", email="carla@example.org")
    # The same participant id in both cities.
    for resident, schema_name in ((alice, "concord"), (carla, "carrollton")):
        with schema_context(schema_name):
            old_pk = resident.resident.participant.pk
            Participant.objects.filter(pk=old_pk).update(id=90_001)
            Site.objects.filter(participant_id=old_pk).update(participant_id=90_001)
    incident = incident_open("concord", investigator_email)
    reveal("concord", investigator_email, incident, alice.site_id)

    run("concord")
    run("carrollton")

    assert len(notices_to("alice@example.org")) == 1
    assert notices_to("carla@example.org") == []
    with schema_context("carrollton"):
        assert not AccessNotice.objects.exists()
