"""The platform site: a public home page, and a console only vendor staff can open."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

pytestmark = pytest.mark.django_db


def test_the_home_page_says_what_canvass_is(platform_client):
    page = platform_client.get("/")
    assert page.status_code == 200
    assert "Open-source community camera registries" in page.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(platform_client):
    response = platform_client.get("/console/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/console/"


def test_vendor_staff_sign_in_and_see_every_department(platform_client, vendor, sign_in):
    assert sign_in(platform_client, vendor).status_code == 302
    page = platform_client.get("/console/").content.decode()
    for name in (
        "Concord Police Department",
        "Carrollton Police Department",
        "Little Rock Police Department",
    ):
        assert name in page
    assert "concord.localhost" in page
    assert "Canvass platform" not in page


def test_a_platform_account_that_is_not_staff_is_forbidden(platform_client):
    with schema_context("public"):
        get_user_model().objects.create_user(
            username="intern", email="intern@example.org", password="a-long-passphrase"
        )
    platform_client.login(username="intern", password="a-long-passphrase")
    assert platform_client.get("/console/").status_code == 403


def test_nobody_can_sign_up_on_the_platform(platform_client):
    page = platform_client.get("/accounts/signup/")
    assert "Sign Up Closed" in page.content.decode()


def test_the_password_alone_does_not_open_the_console(platform_client, vendor):
    response = platform_client.post(
        "/accounts/login/", {"login": vendor.email, "password": vendor.password}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert platform_client.get("/console/").status_code == 302
    platform_client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert platform_client.get("/console/")["Location"].startswith("/accounts/login/")


def test_vendor_staff_without_an_authenticator_must_set_one_up(platform_client):
    with schema_context("public"):
        staff = get_user_model().objects.create_user(
            username="newhire", email="newhire@canvass.example.org", is_staff=True
        )
    platform_client.force_login(staff)
    response = platform_client.get("/console/departments/new/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
