"""Accounts resist abuse: failed passwords and second-factor codes lock per account and address,
a slower throttle per account locks everywhere and emails its owner a single-use unlock link;
the counters are shared by every process (Redis); the client's address is read through the
trusted proxies only; vendor staff sessions end when idle; pages with personal data are never
cached; the unknown-host page has the security headers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.test import RequestFactory, override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.registry.models import AuditEntry
from tenants.http import client_ip
from tests.conftest import STAFF_PASSWORD, incident_post_data, totp_now

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LOCKED_HERE = "this account is locked for 10 minutes"
LOCKED_EVERYWHERE = "Its owner has been emailed a link to unlock it."


def password_step(client, email, password=STAFF_PASSWORD, ip="198.51.100.7", **headers):
    return client.post(
        "/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip, **headers
    )


def code_step(client, code, ip="198.51.100.7"):
    return client.post("/accounts/2fa/authenticate/", {"code": code}, REMOTE_ADDR=ip)


@pytest.fixture
def administrator(make_staff):
    return make_staff("concord", "administrator", signed_in=False)


# --- A lock an outsider cannot use to keep the owner out ---------------------------------------


def test_failures_from_one_address_do_not_lock_the_owner_out_elsewhere(administrator, host_client):
    outsider = host_client("concord.localhost")
    for _attempt in range(5):
        password_step(outsider, administrator.email, "wrong-password", ip="203.0.113.9")
    assert (
        LOCKED_HERE
        in password_step(outsider, administrator.email, ip="203.0.113.9").content.decode()
    )
    # The administrator, at their own address, still signs in.
    response = password_step(administrator.client, administrator.email, ip="198.51.100.7")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"


def test_the_lock_from_one_address_ends_after_ten_minutes(administrator):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _attempt in range(5):
            password_step(administrator.client, administrator.email, "wrong-password")
        assert (
            LOCKED_HERE in password_step(administrator.client, administrator.email).content.decode()
        )
    with time_machine.travel(start + timedelta(minutes=10, seconds=5), tick=False):
        assert password_step(administrator.client, administrator.email).status_code == 302


# --- Second-factor codes ---------------------------------------------------------------------


def test_wrong_second_factor_codes_lock_like_wrong_passwords(administrator, host_client):
    password_step(administrator.client, administrator.email)
    for _attempt in range(4):
        assert "Incorrect code." in code_step(administrator.client, "000000").content.decode()
    assert LOCKED_HERE in code_step(administrator.client, "000000").content.decode()
    # Locked: even the right code is refused now, and so is starting over with the password.
    assert LOCKED_HERE in code_step(administrator.client, totp_now()).content.decode()
    assert administrator.client.get("/department/").status_code == 302
    starting_over = password_step(host_client("concord.localhost"), administrator.email)
    assert LOCKED_HERE in starting_over.content.decode()


def test_wrong_codes_when_confirming_a_sensitive_action_lock_too(make_staff):
    staff = make_staff("concord", "administrator")
    for _attempt in range(4):
        response = staff.client.post(
            "/accounts/2fa/reauthenticate/", {"code": "000000"}, REMOTE_ADDR="198.51.100.7"
        )
        assert "Incorrect code." in response.content.decode()
    response = staff.client.post(
        "/accounts/2fa/reauthenticate/", {"code": "000000"}, REMOTE_ADDR="198.51.100.7"
    )
    assert LOCKED_HERE in response.content.decode()


def test_wrong_codes_and_wrong_passwords_count_together(administrator):
    for _attempt in range(3):
        password_step(administrator.client, administrator.email, "wrong-password")
    password_step(administrator.client, administrator.email)
    code_step(administrator.client, "000000")
    assert LOCKED_HERE in code_step(administrator.client, "000000").content.decode()


def test_a_completed_sign_in_clears_the_count_of_its_address(administrator):
    for _attempt in range(4):
        password_step(administrator.client, administrator.email, "wrong-password")
    password_step(administrator.client, administrator.email)
    code_step(administrator.client, totp_now())
    assert administrator.client.get("/department/").status_code == 200
    administrator.client.post("/accounts/logout/", REMOTE_ADDR="198.51.100.7")
    for _attempt in range(4):
        password_step(administrator.client, administrator.email, "wrong-password")
    assert password_step(administrator.client, administrator.email).status_code == 302


# --- The slower throttle per account, and the unlock link ------------------------------------


def many_addresses_guess(host_client, email, count=20):
    for number in range(count):
        password_step(
            host_client("concord.localhost"), email, "wrong-password", ip=f"203.0.113.{number + 1}"
        )


def unlock_path(message) -> str:
    return re.search(r"http://concord\.localhost(/accounts/unlock/[^/\s]+/)", message.body).group(1)


def test_guesses_from_many_addresses_lock_the_account_and_email_its_owner(
    administrator, host_client
):
    mail.outbox.clear()
    many_addresses_guess(host_client, administrator.email, count=19)
    assert mail.outbox == []
    assert password_step(administrator.client, administrator.email).status_code == 302
    many_addresses_guess(host_client, administrator.email, count=1)
    response = password_step(host_client("concord.localhost"), administrator.email)
    assert LOCKED_EVERYWHERE in response.content.decode()
    (message,) = mail.outbox
    assert message.to == [administrator.email]
    assert "/accounts/unlock/" in message.body
    # More guesses send no second email.
    many_addresses_guess(host_client, administrator.email, count=3)
    assert len(mail.outbox) == 1


def test_the_unlock_link_lets_its_owner_in_once(administrator, host_client):
    many_addresses_guess(host_client, administrator.email)
    (message,) = mail.outbox
    path = unlock_path(message)
    owner = administrator.client
    # Opening the link (as a mail scanner would) changes nothing; the button unlocks.
    page = owner.get(path, REMOTE_ADDR="198.51.100.7")
    assert page.status_code == 200 and "Unlock my account" in page.content.decode()
    assert LOCKED_EVERYWHERE in password_step(owner, administrator.email).content.decode()
    response = owner.post(path, REMOTE_ADDR="198.51.100.7")
    assert "Your account is unlocked" in response.content.decode()
    assert password_step(owner, administrator.email).status_code == 302
    # Single use.
    again = host_client("concord.localhost").post(path, REMOTE_ADDR="198.51.100.8")
    assert again.status_code == 400
    assert "This unlock link is not valid" in again.content.decode()
    assert owner.get(path).status_code == 400


def test_the_owner_who_unlocked_stays_in_while_guessing_goes_on(administrator, host_client):
    many_addresses_guess(host_client, administrator.email)
    administrator.client.post(unlock_path(mail.outbox[0]), REMOTE_ADDR="198.51.100.7")
    many_addresses_guess(host_client, administrator.email)
    elsewhere = password_step(host_client("concord.localhost"), administrator.email, ip="192.0.2.1")
    assert LOCKED_EVERYWHERE in elsewhere.content.decode()
    assert password_step(administrator.client, administrator.email).status_code == 302


def test_an_unlock_link_works_only_in_its_own_city(administrator, host_client):
    many_addresses_guess(host_client, administrator.email)
    path = unlock_path(mail.outbox[0])
    response = host_client("carrollton.localhost").post(path, REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 400
    tampered = path.replace("/unlock/", "/unlock/x")
    assert administrator.client.post(tampered).status_code == 400


def test_guessing_at_an_unknown_address_sends_no_email(host_client):
    many_addresses_guess(host_client, "nobody@example.org")
    assert mail.outbox == []


def test_the_account_throttle_counts_within_an_hour(administrator, host_client):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        many_addresses_guess(host_client, administrator.email, count=15)
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        many_addresses_guess(host_client, administrator.email, count=15)
        assert password_step(administrator.client, administrator.email).status_code == 302
    assert mail.outbox == []


def test_messages_are_in_spanish_on_a_spanish_page(administrator, host_client):
    many_addresses_guess(host_client, administrator.email)
    client = host_client("concord.localhost")
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = password_step(client, administrator.email, ip="192.0.2.9").content.decode()
    assert "Se ha enviado a su titular un enlace para desbloquearla." in page


# --- The client's address, through trusted proxies only --------------------------------------


def test_a_forwarded_for_header_is_ignored_without_trusted_proxies():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="203.0.113.66"
    )
    assert client_ip(request) == "198.51.100.7"


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_one_proxy_the_client_is_the_last_forwarded_address():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5"
    )
    assert client_ip(request) == "203.0.113.5"


@override_settings(TRUSTED_PROXY_COUNT=2)
def test_behind_two_proxies_a_spoofed_entry_is_never_read():
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5, 10.0.0.1"
    )
    assert client_ip(request) == "203.0.113.5"
    garbage = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="x, y")
    assert client_ip(garbage) == "10.0.0.2"


def test_spoofed_forwarded_for_does_not_dodge_the_lock(administrator, host_client):
    attacker = host_client("concord.localhost")
    for number in range(5):
        password_step(
            attacker,
            administrator.email,
            "wrong-password",
            ip="203.0.113.9",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}",
        )
    response = password_step(
        attacker, administrator.email, ip="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.99"
    )
    assert LOCKED_HERE in response.content.decode()


@override_settings(TRUSTED_PROXY_COUNT=1, ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_each_client_is_locked_on_its_own(administrator, host_client):
    proxy = "10.0.0.2"
    outsider = host_client("concord.localhost")
    for _attempt in range(5):
        password_step(
            outsider,
            administrator.email,
            "wrong-password",
            ip=proxy,
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
    locked = password_step(
        outsider, administrator.email, ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert LOCKED_HERE in locked.content.decode()
    owner = password_step(
        administrator.client, administrator.email, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert owner.status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1, ALLAUTH_TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_audit_entries_record_the_client(make_resident, make_staff, site_data):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    investigator = make_staff("concord", "investigator")
    investigator.client.post(
        "/department/incidents/",
        incident_post_data(case_number="CPD-1", address="Union St S"),
    )
    with schema_context("concord"):
        from portal.department.models import Incident
        from portal.registry.models import Site

        incident, site = Incident.objects.get(), Site.objects.get()
    investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/reveal/",
        {"reason": "Canvass for case CPD-1"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.23",
    )
    with schema_context("concord"):
        entry = AuditEntry.objects.get(action=AuditEntry.Action.REVEAL)
    assert entry.ip_address == "198.51.100.23"


# --- Counters shared by every process --------------------------------------------------------

REDIS = ("127.0.0.1", 6379)


def redis_available() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        return False
    return True


def test_two_processes_count_failures_together_in_redis(administrator, host_client):
    """Three failures counted by another process and two by this one lock the account here:
    with a cache per process, each would have allowed five."""
    if not redis_available():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379: the shared counter is not shown")
    redis_url, prefix = "redis://127.0.0.1:6379/14", f"test-{uuid.uuid4().hex}"
    other_process = (
        "from django.db import connection; connection.set_schema('concord');"
        "from tenants import account_lock;"
        f"[account_lock.failure_record({administrator.email!r}, '203.0.113.9') for _ in range(3)]"
    )
    unwanted = {"DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unwanted} | {
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": prefix,
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/unused",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", other_process],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        }
    }
    outsider = host_client("concord.localhost")
    try:
        with override_settings(CACHES=shared):
            for _attempt in range(2):
                password_step(outsider, administrator.email, "wrong-password", ip="203.0.113.9")
            response = password_step(outsider, administrator.email, ip="203.0.113.9")
    finally:
        import redis

        connection = redis.Redis.from_url(redis_url)
        for key in connection.scan_iter(f"*:{prefix}:*"):
            connection.delete(key)
    assert LOCKED_HERE in response.content.decode()


# --- Idle vendor sessions, caching, security headers -----------------------------------------


def test_thirty_idle_minutes_end_a_vendor_staff_session(platform_client, vendor, sign_in):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        sign_in(platform_client, vendor)
        assert platform_client.get("/console/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=29), tick=False):
        assert platform_client.get("/console/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=60), tick=False):
        response = platform_client.get("/console/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_pages_with_personal_data_are_never_cached(
    make_resident, make_staff, site_data, platform_client, vendor, sign_in, concord_client
):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    for path in ("/my/", "/my/access/"):
        assert no_store(alice.client.get(path)), path
    investigator = make_staff("concord", "administrator")
    for path in ("/department/", "/department/registry.csv", "/department/audit/"):
        response = investigator.client.get(path)
        assert response.status_code == 200, path
        assert no_store(response), path
    sign_in(platform_client, vendor)
    assert no_store(platform_client.get("/console/"))
    # Pages an emailed link opens without a sign-in.
    assert no_store(concord_client.get("/answer/not-a-real-token/"))
    assert no_store(concord_client.get("/verify/not-a-real-token/"))


def test_the_unknown_host_page_has_the_security_headers(host_client):
    response = host_client("nowhere.localhost").get("/")
    assert response.status_code == 404
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "default-src 'self'" in response["Content-Security-Policy"]
