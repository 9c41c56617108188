"""Staff can use a security key (WebAuthn) as their second factor, in a real browser with
Chromium's virtual authenticator: add one after signing in with a one-time code, then sign in
with the key alone as the second factor."""

from __future__ import annotations

import re

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from portal.registry.models import StaffMember
from tests.conftest import TOTP_SECRET, totp_now

EMAIL = "kim.key@browser.example.org"
PASSWORD = "a-security-key-holders-passphrase"


def sign_in_with_password(page, base: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))


def test_an_analyst_adds_a_security_key_and_signs_in_with_it(page, live_url):
    with schema_context("carrollton"):
        user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
        StaffMember.objects.create(user=user, role="analyst")
        TOTP.activate(user, TOTP_SECRET)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    carrollton = live_url.format(city="carrollton")

    sign_in_with_password(page, carrollton)
    page.fill("input[name=code]", totp_now())
    page.locator("main form button[type=submit]").click()
    page.goto(carrollton + "/accounts/2fa/webauthn/add/")
    # Changing how one signs in asks for the password again, however recent the sign-in.
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/webauthn/add/$"))
    page.fill("input[name=name]", "Desk key")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)
    with schema_context("carrollton"):
        key = Authenticator.objects.get(user__email=EMAIL, type=Authenticator.Type.WEBAUTHN)
        assert key.wrap().name == "Desk key"
        assert key.last_used_at is None

    page.context.clear_cookies()
    sign_in_with_password(page, carrollton)
    page.get_by_role("button", name="Use a security key").click()
    page.wait_for_url(lambda url: "/accounts/2fa/authenticate/" not in url)
    response = page.goto(carrollton + "/department/")
    assert response.status == 200
    assert "/accounts/login/" not in page.url
    with schema_context("carrollton"):
        key.refresh_from_db()
        assert key.last_used_at is not None
