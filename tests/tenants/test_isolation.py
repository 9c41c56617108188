"""One city's accounts, sessions, cache and pages are invisible from every other city."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django_tenants.utils import schema_context

from tenants.models import Department

pytestmark = pytest.mark.django_db


def test_a_user_created_in_concord_is_absent_in_carrollton():
    with schema_context("concord"):
        get_user_model().objects.create_user(username="ruth", email="ruth@example.org")
        assert get_user_model().objects.filter(email="ruth@example.org").exists()
    with schema_context("carrollton"):
        assert not get_user_model().objects.filter(email="ruth@example.org").exists()
    with schema_context("public"):
        assert not get_user_model().objects.filter(email="ruth@example.org").exists()


def test_each_city_has_its_own_tables():
    with schema_context("concord"):
        concord_admins = list(get_user_model().objects.values_list("email", flat=True))
    with schema_context("carrollton"):
        carrollton_admins = list(get_user_model().objects.values_list("email", flat=True))
    assert concord_admins == ["admin@concord.example.org"]
    assert carrollton_admins == ["admin@carrollton.example.org"]


def test_concord_admin_signs_in_on_concord(concord_client, concord_admin, sign_in):
    response = sign_in(concord_client, concord_admin)
    assert response.status_code == 302
    page = concord_client.get("/")
    assert "Signed in as admin@concord.example.org" in page.content.decode()


def test_concord_admin_cannot_sign_in_on_carrollton(carrollton_client, concord_admin, sign_in):
    response = sign_in(carrollton_client, concord_admin)
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert "_auth_user_id" not in carrollton_client.session


def test_a_concord_session_is_worthless_on_carrollton(
    concord_client, carrollton_client, concord_admin, sign_in
):
    sign_in(concord_client, concord_admin)
    session_key = concord_client.cookies["sessionid"].value
    carrollton_client.cookies["sessionid"] = session_key
    page = carrollton_client.get("/").content.decode()
    assert "Signed in as" not in page
    assert "Sign in" in page


def test_session_cookies_are_host_only(concord_client, concord_admin, sign_in):
    sign_in(concord_client, concord_admin)
    assert concord_client.cookies["sessionid"]["domain"] == ""


def test_vendor_staff_cannot_sign_in_on_a_city(concord_client, vendor, sign_in):
    response = sign_in(concord_client, vendor)
    assert response.status_code == 200
    assert "_auth_user_id" not in concord_client.session


def test_city_administrator_cannot_sign_in_on_the_platform(platform_client, concord_admin, sign_in):
    response = sign_in(platform_client, concord_admin)
    assert response.status_code == 200
    assert "_auth_user_id" not in platform_client.session


def test_a_city_host_does_not_serve_the_platform_console(concord_client):
    assert concord_client.get("/console/").status_code == 404


def test_the_platform_host_does_not_serve_a_city_portal(platform_client):
    # The platform site has its own language switch (/i18n/) but no resident or staff pages.
    for path in ("/my/", "/department/", "/register/"):
        assert platform_client.get(path).status_code == 404, path
    home = platform_client.get("/").content.decode()
    for name in ("Concord Community Camera Registry", "Eyes on the Rock", "Carrollton Police"):
        assert name not in home


def test_an_unknown_host_gets_a_plain_404(host_client):
    response = host_client("nowhere.localhost").get("/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "No community camera registry is served at nowhere.localhost" in body
    assert "Traceback" not in body


def test_an_unknown_host_is_shown_escaped(host_client):
    response = host_client("x.localhost").get("/")
    assert response.status_code == 404
    assert "<script" not in response.content.decode()


def test_a_host_outside_allowed_hosts_is_refused(host_client):
    response = host_client("evil.example.com").get("/")
    assert response.status_code == 404
    assert response.content == b""


def test_cache_keys_are_per_city():
    with schema_context("concord"):
        cache.set("greeting", "concord only")
        assert cache.get("greeting") == "concord only"
    with schema_context("carrollton"):
        assert cache.get("greeting") is None


def test_a_suspended_departments_portal_is_closed(concord_client, carrollton_client):
    Department.objects.filter(schema_name="concord").update(status=Department.Status.SUSPENDED)
    response = concord_client.get("/")
    assert response.status_code == 503
    assert "Concord Police Department's camera registry is not available" in (
        response.content.decode()
    )
    assert carrollton_client.get("/").status_code == 200
