"""What reviewers are told about a request: a personal email address is accepted but flagged, a
repeated request for the same city or address is linked to the first, a city a department
already serves is flagged."""

from __future__ import annotations

import pytest
from django.core import mail
from onboarding.models import ProgramRequest, ProgramRequestEvent
from onboarding.requests import FREE_MAIL_DOMAINS

pytestmark = pytest.mark.django_db


def confirmed(request: ProgramRequest) -> ProgramRequest:
    request.status = ProgramRequest.Status.NEW
    request.save()
    return request


def test_a_personal_email_is_accepted_flagged_and_the_requester_told(submit, platform_client):
    assert submit(contact_email="chief.alice@Gmail.com").status_code == 302
    request = ProgramRequest.objects.get()
    assert request.personal_email is True
    flag = request.events.get(kind=ProgramRequestEvent.Kind.FLAGGED)
    assert flag.text == "personal email address"
    assert len(mail.outbox) == 1
    page = platform_client.get("/request/sent/")
    assert "You used a personal email address" in page.text


def test_the_free_mail_list_holds_the_common_providers():
    assert {"gmail.com", "outlook.com", "yahoo.com", "proton.me"} <= FREE_MAIL_DOMAINS
    assert "springfield-il.gov" not in FREE_MAIL_DOMAINS


def test_a_repeated_request_for_the_same_city_is_linked_to_the_first(submit):
    submit()
    first = confirmed(ProgramRequest.objects.get())
    response = submit(
        city="  SPRINGFIELD ",
        subdomain="springfield",
        contact_email="bob@springfield-il.gov",
        ip="198.51.100.8",
    )
    assert response.status_code == 302
    second = ProgramRequest.objects.exclude(pk=first.pk).get()
    assert second.duplicate_of == first
    assert first.events.filter(kind=ProgramRequestEvent.Kind.LINKED).count() == 1
    assert second.events.filter(kind=ProgramRequestEvent.Kind.LINKED).count() == 1


def test_a_repeated_request_for_the_same_address_is_linked(submit):
    submit()
    first = confirmed(ProgramRequest.objects.get())
    submit(city="Shelbyville", contact_email="bob@shelbyville.gov", ip="198.51.100.8")
    second = ProgramRequest.objects.exclude(pk=first.pk).get()
    assert second.duplicate_of == first


def test_the_same_city_in_another_state_is_not_a_duplicate(submit):
    submit()
    confirmed(ProgramRequest.objects.get())
    submit(state="MA", subdomain="springfield-ma", contact_email="c@springfield-ma.gov")
    assert not ProgramRequest.objects.filter(duplicate_of__isnull=False).exists()


def test_unconfirmed_requests_of_others_and_closed_ones_do_not_count(submit):
    submit()  # unconfirmed, from alice
    declined = ProgramRequest.objects.get()
    submit(contact_email="bob@springfield-il.gov", ip="198.51.100.8")
    assert not ProgramRequest.objects.filter(duplicate_of__isnull=False).exists()
    declined.status = ProgramRequest.Status.DECLINED
    declined.save()
    submit(contact_email="carol@springfield-il.gov", ip="198.51.100.9")
    assert not ProgramRequest.objects.filter(duplicate_of__isnull=False).exists()


def test_the_same_persons_unconfirmed_request_counts(submit):
    submit()
    first = ProgramRequest.objects.get()
    submit(contact_email="ALICE@springfield-il.gov", ip="198.51.100.8")
    second = ProgramRequest.objects.exclude(pk=first.pk).get()
    assert second.duplicate_of == first


def test_a_city_a_department_already_serves_is_accepted_and_flagged(submit):
    response = submit(city="concord", state="NC", subdomain="concord-two")
    assert response.status_code == 302
    request = ProgramRequest.objects.get()
    flag = request.events.get(kind=ProgramRequestEvent.Kind.FLAGGED)
    assert flag.text.startswith("a department already serves this city")
    # Another state's Concord is not served.
    submit(
        city="Concord",
        state="CA",
        subdomain="concord-ca",
        ip="198.51.100.8",
        contact_email="x@concord-ca.gov",
    )
    other = ProgramRequest.objects.get(state="CA")
    assert not other.events.filter(kind=ProgramRequestEvent.Kind.FLAGGED).exists()
