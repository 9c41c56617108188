"""The way in: a single-use link from the platform, signed for one city, valid two minutes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from console.models import PlatformAuditEntry
from tenants.signing import Link, link_sign
from tests.support.conftest import entry_path, last_session, support_request

pytestmark = pytest.mark.django_db


def test_the_link_signs_in_the_support_identity_once(make_vendor, host_client):
    vendor = make_vendor("support")
    support_request(vendor)
    session = last_session()
    path = entry_path(vendor, session.pk)
    city = host_client("concord.localhost")
    response = city.get(path)
    assert response.status_code == 302 and response["Location"] == "/department/"
    home = city.get("/department/")
    assert home.status_code == 200
    assert f"Vendor support session {session.pk}, read-only" in home.content.decode()
    again = host_client("concord.localhost").get(path)
    assert again.status_code == 400
    assert "already used" in again.content.decode()


def test_a_link_expires_after_two_minutes(make_vendor, host_client, time_machine):
    vendor = make_vendor("support")
    support_request(vendor)
    path = entry_path(vendor, last_session().pk)
    time_machine.move_to(timezone.now() + timedelta(seconds=121))
    response = host_client("concord.localhost").get(path)
    assert response.status_code == 400
    assert "has expired" in response.content.decode()
    assert host_client("concord.localhost").get("/department/").status_code == 302


def test_a_link_is_useless_on_another_city(make_vendor, host_client):
    vendor = make_vendor("support")
    support_request(vendor)
    path = entry_path(vendor, last_session().pk)
    carrollton = host_client("carrollton.localhost")
    response = carrollton.get(path)
    assert response.status_code == 400
    assert "not valid here" in response.content.decode()
    assert carrollton.get("/department/").status_code == 302
    # Still good on its own city.
    assert host_client("concord.localhost").get(path).status_code == 302


def test_a_city_signed_link_naming_another_citys_session_is_refused(make_vendor, host_client):
    """Collision: a link correctly signed for Carrollton that names Concord's session (ids are
    the platform's, the support accounts' ids the same in both schemas) opens nothing."""
    vendor = make_vendor("support")
    support_request(vendor, "concord")
    concord_session = last_session("concord")
    entry_path(vendor, concord_session.pk)  # a live nonce on Concord's session
    with schema_context("public"):
        concord_session.refresh_from_db()
    with schema_context("carrollton"):
        token = link_sign(
            Link.SUPPORT_ENTRY,
            {"session": concord_session.pk, "nonce": concord_session.entry_nonce},
        )
    response = host_client("carrollton.localhost").get(f"/support/enter/{token}/")
    assert response.status_code == 400
    assert "not valid here" in response.content.decode()


def test_support_identities_of_two_cities_stay_apart(in_support):
    """The same vendor in two cities: each city has its own support account (their ids may be
    the same), and a session cookie from one city opens nothing in the other."""
    from django.contrib.auth import get_user_model

    concord = in_support("concord")
    carrollton = in_support("carrollton", vendor=concord.vendor)
    users = []
    for schema in ("concord", "carrollton"):
        with schema_context(schema):
            users.append(get_user_model().objects.get(username__startswith="vendor-support-"))
    assert {user.email for user in users} == {concord.vendor.email}
    assert not any(user.has_usable_password() for user in users)
    cookie = concord.city.cookies["sessionid"].value
    carrollton.city.cookies["sessionid"] = cookie
    assert carrollton.city.get("/department/").status_code == 302


def test_the_support_identity_cannot_sign_in_with_a_password(in_support, host_client):
    concord = in_support("concord")
    response = host_client("concord.localhost").post(
        "/accounts/login/", {"login": concord.vendor.email, "password": "x-long-passphrase"}
    )
    assert response.status_code == 200  # the form again, with its error
    assert b"not correct" in response.content or b"incorrect" in response.content


def test_a_support_account_outside_a_session_is_signed_out(in_support, host_client):
    from django.contrib.auth import get_user_model

    concord = in_support("concord")
    client = host_client("concord.localhost")
    with schema_context("concord"):
        client.force_login(get_user_model().objects.get(username__startswith="vendor-support-"))
    response = client.get("/department/")
    assert response.status_code == 403
    assert "Support session over" in response.content.decode()
    assert client.get("/department/").status_code == 302
    assert concord.city.get("/department/").status_code == 200


def test_the_platform_log_records_the_start_once(in_support):
    concord = in_support("concord")
    with schema_context("public"):
        entries = PlatformAuditEntry.objects.filter(action="support_start")
        assert [entry.detail["session"] for entry in entries] == [concord.session_id]
        assert entries[0].actor_email == concord.vendor.email
