"""Spam and abuse: the honeypot, the limits per client address and per email address, and
portal addresses that cannot be had, told at once (on the form and while typing)."""

from __future__ import annotations

import pytest
from django.core import mail
from onboarding.models import ProgramRequest

pytestmark = pytest.mark.django_db

LIMITED = "Too many requests have been sent from this address or for this email address."


def test_a_filled_honeypot_looks_like_success_but_stores_and_sends_nothing(submit, platform_client):
    response = submit(homepage="http://spam.example")
    assert response.status_code == 302
    assert response["Location"] == "/request/sent/"
    assert "Check your email" in platform_client.get("/request/sent/").text
    assert not ProgramRequest.objects.exists()
    assert not mail.outbox


def test_a_filled_honeypot_with_garbage_still_looks_like_success(submit):
    response = submit(homepage="x", contact_email="nope", state="ZZ")
    assert response.status_code == 302
    assert not ProgramRequest.objects.exists()


def test_an_address_may_send_five_requests_an_hour(submit):
    for number in range(5):
        response = submit(
            contact_email=f"person{number}@agency{number}.gov",
            subdomain=f"city-{number}",
            city=f"City {number}",
        )
        assert response.status_code == 302
    refused = submit(contact_email="person9@agency9.gov", subdomain="city-9", city="City 9")
    assert refused.status_code == 429
    assert LIMITED in refused.text
    assert 'value="City 9"' in refused.text  # the form is kept
    assert ProgramRequest.objects.count() == 5
    assert len(mail.outbox) == 5
    # Another address is not held back.
    assert submit(ip="203.0.113.50", subdomain="city-9", city="City 9").status_code == 302


def test_an_email_address_may_send_three_requests_a_day(submit):
    for number in range(3):
        assert submit(ip=f"198.51.100.{number + 20}").status_code == 302
    refused = submit(ip="198.51.100.40", contact_email="ALICE@springfield-il.gov")
    assert refused.status_code == 429
    assert LIMITED in refused.text
    assert ProgramRequest.objects.count() == 3


def test_the_limit_is_explained_in_spanish(submit):
    for number in range(3):
        submit(ip=f"198.51.100.{number + 20}")
    refused = submit(ip="198.51.100.40", language="es")
    assert refused.status_code == 429
    assert "Se han enviado demasiadas solicitudes" in refused.text


def test_the_limit_reads_the_address_through_the_trusted_proxy(submit, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for number in range(5):
        response = submit(
            ip="10.0.0.1",
            forwarded_for=f"203.0.113.{number}",
            contact_email=f"p{number}@a{number}.gov",
            subdomain=f"town-{number}",
            city=f"Town {number}",
        )
        assert response.status_code == 302
    assert ProgramRequest.objects.count() == 5


@pytest.mark.parametrize(
    ("subdomain", "message"),
    [
        ("www", "The subdomain “www” is reserved."),
        ("console", "The subdomain “console” is reserved."),
        ("concord", "The address “concord” is already a department&#x27;s portal"),
        ("Concord", "The address “concord” is already a department&#x27;s portal"),
        ("1-police", "A subdomain is 1 to 30 lowercase letters"),
    ],
)
def test_a_reserved_or_taken_address_is_refused_on_the_form(submit, subdomain, message):
    response = submit(subdomain=subdomain)
    assert response.status_code == 400
    assert message in response.text
    assert not ProgramRequest.objects.exists()
    assert not mail.outbox


def test_the_schema_of_a_department_is_taken_with_hyphens(submit):
    # littlerock's schema is "littlerock"; "little_rock" is never a subdomain, but a hyphenated
    # address whose schema matches an existing one is taken.
    response = submit(subdomain="littlerock")
    assert response.status_code == 400
    assert "already a department" in response.text


def check(platform_client, name: str, *, language: str = "en", ip: str = "198.51.100.7"):
    return platform_client.get(
        "/request/subdomain/", {"name": name}, REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE=language
    )


def test_the_live_check_answers_at_once(platform_client):
    free = check(platform_client, "springfield-il")
    assert free.status_code == 200
    assert free.json() == {"ok": True, "message": "“springfield-il” is available."}
    taken = check(platform_client, "concord").json()
    assert taken["ok"] is False and "already a department's portal" in taken["message"]
    reserved = check(platform_client, "admin").json()
    assert reserved == {"ok": False, "message": "The subdomain “admin” is reserved."}
    malformed = check(platform_client, "-bad-").json()
    assert malformed["ok"] is False and "A subdomain is 1 to 30" in malformed["message"]
    assert check(platform_client, "").json()["ok"] is False


def test_the_live_check_answers_in_spanish(platform_client):
    answer = check(platform_client, "concord", language="es").json()
    assert answer["ok"] is False
    assert "ya es el portal de un departamento" in answer["message"]
    assert "está disponible" in check(platform_client, "nuevo", language="es").json()["message"]


def test_the_live_check_is_rate_limited(platform_client, settings):
    for _number in range(settings.PROGRAM_REQUEST_SUBDOMAIN_CHECKS_PER_MINUTE):
        assert check(platform_client, "springfield").status_code == 200
    refused = check(platform_client, "springfield")
    assert refused.status_code == 429
    assert refused.json()["ok"] is False
    assert "Too many checks" in refused.json()["message"]
    assert check(platform_client, "springfield", ip="203.0.113.9").status_code == 200


def test_the_live_check_takes_no_post(platform_client):
    assert platform_client.post("/request/subdomain/", {"name": "x"}).status_code == 405


def test_an_address_another_department_answers_on_is_taken(submit, platform_client):
    from tenants.models import Department, Domain

    concord = Department.objects.get(schema_name="concord")
    Domain.objects.create(domain="concord-cams.localhost", tenant=concord, is_primary=False)
    assert check(platform_client, "concord-cams").json()["ok"] is False
    response = submit(subdomain="concord-cams")
    assert response.status_code == 400
    assert "already a department" in response.text
    assert not ProgramRequest.objects.exists()


def test_a_bots_address_is_counted_too(submit):
    for _number in range(5):
        assert submit(homepage="http://spam.example").status_code == 302
    assert submit().status_code == 429
    assert submit(ip="203.0.113.77").status_code == 302
