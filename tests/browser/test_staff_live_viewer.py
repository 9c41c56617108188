"""The viewer page in a real browser (Chromium): without a relay it says so plainly, and when the
owner pauses sharing the page says the view ended within two seconds (its script asks every
second). The picture itself through the relay is tested with the relay. (It lives here, not in
tests/liveview: one process runs one Playwright session, the browser fixtures'.)

It runs in Little Rock (committed rows; audit entries stay there, and no other test counts
Little Rock's): the grant rows are removed afterwards, the accounts by the browser fixtures."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from portal.liveview.models import Grant, LivePreferences
from portal.liveview.services import grant_open
from portal.registry.audit import Actor
from portal.registry.models import StaffMember
from tests.browser.conftest import EMAIL_DOMAIN
from tests.conftest import TOTP_SECRET, totp_now
from tests.liveview.grant_fixtures import live_camera

PASSWORD = "a-live-viewers-passphrase"
EMAIL = f"lena.live@{EMAIL_DOMAIN}"


@pytest.fixture
def grant(committed_db: None) -> Iterator[Grant]:
    with schema_context("littlerock"):
        user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
        staff = StaffMember.objects.create(user=user, role="operator")
        TOTP.activate(user, TOTP_SECRET)
        live = live_camera(email=f"live-owner@{EMAIL_DOMAIN}", latitude=34.7465, longitude=-92.2896)
        opened = grant_open(
            actor=Actor.of_staff(staff, "127.0.0.1"),
            camera=live.camera,
            reason="crime_in_progress",
            case_number="LRPD-LIVE-1",
        )
    yield opened
    with schema_context("littlerock"):
        Grant.objects.filter(staff__user__email=EMAIL).delete()


def sign_in(page, base: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/2fa/" not in url)


def test_the_viewer_stops_within_two_seconds_of_the_owner_pause(page, live_url, grant, settings):
    settings.MEDIA_RELAY_URL = ""
    base = live_url.format(city="littlerock")
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    sign_in(page, base)
    page.goto(f"{base}/department/live/grants/{grant.pk}/")
    assert page.locator("#live-message").inner_text() == "Live video is not set up on this server."
    assert page.locator("video").count() == 0
    # The script counts down from the console's answers.
    time_left = page.locator("#live-time-left")
    expect(time_left).not_to_have_text(time_left.inner_text(), timeout=3_000)
    with schema_context("littlerock"):
        LivePreferences.objects.create(participant=grant.camera.site.participant, paused=True)
    paused_at = time.monotonic()
    expect(page.locator("#live-message")).to_contain_text("Owner paused sharing", timeout=2_500)
    assert time.monotonic() - paused_at < 2.0
    assert page.locator("#live-time-left").inner_text() == "0"
    assert not [error for error in errors if "Content Security Policy" in error]
    with schema_context("littlerock"):
        grant.refresh_from_db()
        assert grant.ended_why == Grant.Ended.OWNER_PAUSED
