"""A department submits the public program request form: the request is stored unconfirmed,
the confirmation link is emailed in the form's language, and nothing is stored on any error."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client
from onboarding.models import ProgramRequest, ProgramRequestEvent

from tests.onboarding_request.conftest import request_data

pytestmark = pytest.mark.django_db


def test_the_form_is_shown_in_english_and_spanish(platform_client):
    english = platform_client.get("/request/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200
    assert "Request a Canvass program for your department" in english.text
    assert ".localhost" in english.text  # the base domain shown with the address field
    assert '<option value="DC">' in english.text and '<option value="PR">' in english.text
    # US zones first, before every other zone.
    assert english.text.index("America/New_York") < english.text.index("Africa/Abidjan")
    spanish = platform_client.get("/request/", HTTP_ACCEPT_LANGUAGE="es")
    assert "Solicite un programa de Canvass para su departamento" in spanish.text
    assert 'lang="es"' in spanish.text


def test_the_form_is_accessible_markup(platform_client):
    page = platform_client.get("/request/").text
    assert page.count("<fieldset") >= 4 and "<legend>" in page
    assert '<label for="id_agency_name"' in page
    assert 'aria-describedby="id_subdomain_helptext subdomain-status"' in page
    assert 'id="subdomain-status"' in page and 'aria-live="polite"' in page
    assert "onboarding/request.js" in page  # no inline script: CSP
    assert "<script>" not in page
    # The honeypot: hidden from people and assistive technology, out of the tab order.
    honeypot = re.search(r'<div class="request-honeypot" aria-hidden="true">.*?</div>', page, re.S)
    assert honeypot and 'tabindex="-1"' in honeypot.group(0)
    assert 'autocomplete="off"' in honeypot.group(0)


def test_a_refused_address_is_described_by_its_error_and_the_live_region(submit):
    page = submit(subdomain="www").text
    assert 'aria-describedby="id_subdomain_helptext id_subdomain_error subdomain-status"' in page
    assert 'aria-invalid="true"' in page


def test_a_request_is_stored_unconfirmed_and_the_confirmation_link_emailed(submit):
    response = submit()
    assert response.status_code == 302
    assert response["Location"] == "/request/sent/"
    request = ProgramRequest.objects.get()
    assert request.status == ProgramRequest.Status.UNCONFIRMED
    assert request.language == "en"
    assert request.contact_phone == "+1 (217) 555-0100"
    assert request.wants_devices is True
    assert request.personal_email is False
    assert request.duplicate_of is None
    kinds = list(request.events.values_list("kind", flat=True))
    assert kinds == [ProgramRequestEvent.Kind.SUBMITTED, ProgramRequestEvent.Kind.EMAILED]
    (email,) = mail.outbox
    assert email.to == ["alice@springfield-il.gov"]
    assert email.subject == "Confirm your Canvass program request"
    assert "http://localhost" in email.body and "/request/confirm/" in email.body
    assert "7 days" in email.body


def test_the_sent_page_says_to_check_the_email(submit, platform_client):
    submit()
    page = platform_client.get("/request/sent/")
    assert page.status_code == 200
    assert "Check your email" in page.text
    assert "personal email address" not in page.text


def test_a_spanish_request_is_answered_in_spanish(submit):
    assert submit(language="es").status_code == 302
    request = ProgramRequest.objects.get()
    assert request.language == "es"
    (email,) = mail.outbox
    assert email.subject == "Confirme su solicitud de programa de Canvass"
    assert "Hola Alice Moreno" in email.body
    assert "El enlace funciona durante 7 días." in email.body


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("agency_name", "", "This field is required."),
        ("agency_name", "x" * 101, "Ensure this value has at most 100 characters"),
        ("city", "c" * 5_000, "Ensure this value has at most 100 characters"),
        ("state", "XX", "Select a valid choice. XX is not one of the available choices."),
        ("state", "nc", "Select a valid choice."),
        ("time_zone", "Mars/Olympus", "Select a valid choice."),
        ("contact_email", "not-an-email", "Enter a valid email address."),
        ("contact_phone", "555", "Enter a phone number of 7 to 20 digits"),
        ("contact_phone", "call me maybe 5550100", "Enter a phone number of 7 to 20 digits"),
        ("contact_phone", "1" * 21, "Enter a phone number of 7 to 20 digits"),
        ("expected_cameras", "-1", "Ensure this value is greater than or equal to 0."),
        ("expected_cameras", "1000001", "Ensure this value is less than or equal to 1000000."),
        ("expected_cameras", "many", "Enter a whole number."),
        ("wants_devices", "maybe", "Select a valid choice."),
        ("purchasing", "barter", "Select a valid choice."),
        ("subdomain", "Bad_Name!", "A subdomain is 1 to 30 lowercase letters"),
        ("message", "m" * 2_001, "Ensure this value has at most 2000 characters"),
    ],
)
def test_each_bad_field_is_told_specifically_and_nothing_is_stored(submit, field, value, message):
    response = submit(**{field: value})
    assert response.status_code == 400
    assert 'class="error-summary"' in response.text
    assert f'href="#id_{field}' in response.text  # the summary links to the field
    assert message in response.text
    assert not ProgramRequest.objects.exists()
    assert not mail.outbox


def test_errors_are_in_spanish_on_the_spanish_form(submit):
    response = submit(
        language="es", contact_phone="555", contact_email="nada", state="", subdomain="www"
    )
    assert response.status_code == 400
    text = response.text
    assert "Corrija lo siguiente:" in text
    assert "Escriba un número de teléfono de 7 a 20 dígitos" in text
    assert "Introduzca una dirección de correo electrónico válida." in text
    assert "Este campo es obligatorio." in text
    assert "El subdominio “www” está reservado." in text
    assert not ProgramRequest.objects.exists()


def test_non_ascii_is_kept_and_html_is_escaped(submit, platform_client):
    assert (
        submit(
            agency_name="Policía de Cañon City <script>alert(1)</script>",
            city="  Cañon   City ",
            state="CO",
            contact_name="José Ñúñez",
        ).status_code
        == 302
    )
    request = ProgramRequest.objects.get()
    assert request.agency_name == "Policía de Cañon City <script>alert(1)</script>"
    assert request.city == "Cañon City"
    # Shown back on a refused form, HTML is escaped.
    refused = submit(agency_name="<b>bold</b>", contact_phone="1", ip="198.51.100.99")
    assert "&lt;b&gt;bold&lt;/b&gt;" in refused.text and "<b>bold</b>" not in refused.text


def test_the_confirmation_page_escapes_html(submit, platform_client):
    submit(agency_name="<img src=x onerror=alert(1)> PD")
    link = re.search(r"http://localhost(?::\d+)?(/request/confirm/[^/\s]+/)", mail.outbox[0].body)
    assert link
    page = platform_client.get(link.group(1))
    assert "&lt;img src=x onerror=alert(1)&gt; PD" in page.text
    assert "<img src=x" not in page.text


def test_a_post_without_csrf_is_refused(db):
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    response = client.post("/request/", request_data())
    assert response.status_code == 403
    assert not ProgramRequest.objects.exists()
    assert not mail.outbox
