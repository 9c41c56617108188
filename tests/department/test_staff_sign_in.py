"""Staff sign in with a password and a second factor; failures lock; idle sessions end."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.test import Client
from django.utils import timezone

from tests.conftest import STAFF_PASSWORD, TOTP_SECRET, totp_now

pytestmark = pytest.mark.django_db


def password_step(client, email, password=STAFF_PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_a_password_alone_does_not_open_the_console(make_staff):
    staff = make_staff("concord", "investigator", signed_in=False)
    response = password_step(staff.client, staff.email)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert staff.client.get("/department/").status_code == 302


def test_the_one_time_code_completes_the_sign_in(make_staff):
    staff = make_staff("concord", "investigator", signed_in=False)
    password_step(staff.client, staff.email)
    staff.client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
    assert staff.client.get("/department/").status_code == 200


def code_of_period(offset: int) -> str:
    """The authenticator app's code `offset` periods of 30 seconds from now's."""
    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30 + offset))


def test_a_code_of_the_period_just_ended_signs_in_once(make_staff):
    staff = make_staff("concord", "investigator", signed_in=False)
    code = code_of_period(-1)
    password_step(staff.client, staff.email)
    staff.client.post("/accounts/2fa/authenticate/", {"code": code})
    assert staff.client.get("/department/").status_code == 200
    # The same code again (read over a shoulder, replayed): refused.
    other = Client(HTTP_HOST=staff.client.defaults["HTTP_HOST"])
    password_step(other, staff.email)
    response = other.post("/accounts/2fa/authenticate/", {"code": code})
    assert "Incorrect code." in response.content.decode()
    assert other.get("/department/").status_code == 302


def test_a_code_two_periods_old_is_refused(make_staff):
    staff = make_staff("concord", "investigator", signed_in=False)
    password_step(staff.client, staff.email)
    response = staff.client.post("/accounts/2fa/authenticate/", {"code": code_of_period(-2)})
    assert "Incorrect code." in response.content.decode()
    assert staff.client.get("/department/").status_code == 302


def test_a_wrong_code_is_refused(make_staff):
    staff = make_staff("concord", "investigator", signed_in=False)
    password_step(staff.client, staff.email)
    response = staff.client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert "Incorrect code." in response.content.decode()
    assert staff.client.get("/department/").status_code == 302


def test_staff_without_a_second_factor_must_set_one_up(make_staff):
    staff = make_staff("concord", "investigator", mfa=False)
    response = staff.client.get("/department/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_five_failed_sign_ins_lock_the_account_for_ten_minutes(make_staff):
    staff = make_staff("concord", "investigator", signed_in=False)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _attempt in range(5):
            password_step(staff.client, staff.email, "wrong-password")
        response = password_step(staff.client, staff.email)
        assert "this account is locked for 10 minutes" in response.content.decode()
    with time_machine.travel(start + timedelta(minutes=9, seconds=50), tick=False):
        response = password_step(staff.client, staff.email)
        assert "this account is locked" in response.content.decode()
    with time_machine.travel(start + timedelta(minutes=10, seconds=5), tick=False):
        response = password_step(staff.client, staff.email)
        assert response.status_code == 302
        assert response["Location"] == "/accounts/2fa/authenticate/"


def test_the_lock_is_per_account(make_staff):
    locked = make_staff("concord", "investigator", signed_in=False)
    other = make_staff("concord", "operator", signed_in=False)
    for _attempt in range(5):
        password_step(locked.client, locked.email, "wrong-password")
    assert password_step(other.client, other.email).status_code == 302


def test_thirty_idle_minutes_end_a_staff_session(make_staff):
    staff = make_staff("concord", "investigator")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert staff.client.get("/department/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert staff.client.get("/department/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=58), tick=False):
        assert staff.client.get("/department/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=89), tick=False):
        response = staff.client.get("/department/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_residents_keep_their_usual_session(make_resident):
    alice = make_resident("concord")
    with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
        assert alice.client.get("/my/").status_code == 200
