"""Residents create an account on their city's portal: verified email, reset, rate limits."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django_tenants.utils import schema_context

from portal.registry.models import Participant

pytestmark = pytest.mark.django_db

SIGNUP = {
    "email": "rosa@example.org",
    "password1": "a-long-and-unusual-passphrase",
    "password2": "a-long-and-unusual-passphrase",
    "organisation_name": "Rosa's Tacos",
}


def test_a_resident_signs_up_and_must_verify_the_email(concord_client):
    response = concord_client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    with schema_context("concord"):
        participant = Participant.objects.select_related("user").get()
        assert participant.user.email == "rosa@example.org"
        assert participant.organisation_name == "Rosa's Tacos"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rosa@example.org"]
    link = re.search(
        r"http://concord\.localhost(/accounts/confirm-email/[^\s]+)", mail.outbox[0].body
    )
    assert link, mail.outbox[0].body
    # Until the address is verified, signing in only re-sends the verification.
    concord_client.logout()
    concord_client.post(
        "/accounts/login/", {"login": SIGNUP["email"], "password": SIGNUP["password1"]}
    )
    assert "_auth_user_id" not in concord_client.session
    concord_client.post(link.group(1))
    concord_client.post(
        "/accounts/login/", {"login": SIGNUP["email"], "password": SIGNUP["password1"]}
    )
    assert "_auth_user_id" in concord_client.session


def test_the_account_belongs_to_that_city_only(concord_client, carrollton_client):
    concord_client.post("/accounts/signup/", SIGNUP)
    with schema_context("carrollton"):
        assert not get_user_model().objects.filter(email=SIGNUP["email"]).exists()
    # The same person may take part in another city with an account of its own.
    response = carrollton_client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    with schema_context("carrollton"):
        assert get_user_model().objects.filter(email=SIGNUP["email"]).exists()


def test_an_email_already_registered_in_the_city_gets_no_second_account(
    concord_client, make_resident
):
    make_resident("concord", email="rosa@example.org")
    concord_client.post("/accounts/signup/", SIGNUP)
    with schema_context("concord"):
        assert get_user_model().objects.filter(email="rosa@example.org").count() == 1
    # Without revealing to the visitor that the address is taken, its owner is told by email.
    assert mail.outbox[0].to == ["rosa@example.org"]
    assert "already" in mail.outbox[0].body


def test_signing_up_in_spanish(concord_client):
    concord_client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = concord_client.get("/accounts/signup/").content.decode()
    # The portal's own heading (usted, sentence case), not allauth's "Regístrate".
    assert "Crear una cuenta" in page
    concord_client.post("/accounts/signup/", SIGNUP)
    with schema_context("concord"):
        assert Participant.objects.get().language == "es"
    assert mail.outbox[0].subject == (
        "[Concord Community Camera Registry] Por favor, confirme su dirección de correo electrónico"
    )
    body = mail.outbox[0].body
    assert body.startswith("¡Hola de parte de Concord Community Camera Registry!")
    assert "crear una cuenta en Concord Community Camera Registry." in body
    assert "Para confirmar la dirección, vaya a http://concord.localhost/accounts/" in body


def test_the_confirmation_email_names_the_program_not_the_host_or_a_username(concord_client):
    concord_client.post("/accounts/signup/", SIGNUP)
    body = mail.outbox[0].body
    assert body.startswith("Hello from Concord Community Camera Registry!")
    assert "create an account with Concord Community Camera Registry." in body
    assert "To confirm the address, go to http://concord.localhost/accounts/confirm-email/" in body
    assert "rosa" not in body.replace("rosa@example.org", "")
    assert "Thank you for using Concord Community Camera Registry!\nconcord.localhost" in body


def test_a_weak_password_is_refused(concord_client):
    response = concord_client.post(
        "/accounts/signup/", SIGNUP | {"password1": "password", "password2": "password"}
    )
    assert "This password is too common." in response.content.decode()
    with schema_context("concord"):
        assert not Participant.objects.exists()


def test_an_oversized_organisation_name_is_refused(concord_client):
    response = concord_client.post("/accounts/signup/", SIGNUP | {"organisation_name": "o" * 151})
    assert "Ensure this value has at most 150 characters" in response.content.decode()


def test_a_password_can_be_reset_by_email(concord_client, make_resident):
    make_resident("concord", email="rosa@example.org")
    concord_client.post("/accounts/password/reset/", {"email": "rosa@example.org"})
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_failed_sign_ins_are_rate_limited(concord_client, make_resident):
    make_resident("concord", email="rosa@example.org")
    for _attempt in range(5):
        concord_client.post("/accounts/login/", {"login": "rosa@example.org", "password": "wrong"})
    response = concord_client.post(
        "/accounts/login/", {"login": "rosa@example.org", "password": "correct-horse-battery"}
    )
    assert "Too many failed sign-ins: this account is locked for 10 minutes." in (
        response.content.decode()
    )
    assert "_auth_user_id" not in concord_client.session


def test_nobody_can_sign_up_on_the_platform(platform_client):
    platform_client.post("/accounts/signup/", SIGNUP)
    with schema_context("public"):
        assert not get_user_model().objects.filter(email=SIGNUP["email"]).exists()
