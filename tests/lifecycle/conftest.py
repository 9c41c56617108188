"""The lifecycle tests' personas: vendor staff of each role, signed in on the platform site with
their second factor, as a browser would."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import TOTP_SECRET, Persona


def signed_in(client: Client, persona: Persona, sign_in) -> Client:
    """Password and one-time code over HTTP. A code read just before its 30-second window ends
    is refused by the time it arrives; the next one, a window later, is then asked once more."""
    response = sign_in(client, persona)
    if response.status_code != 302:
        time.sleep(30 - time.time() % 30 + 0.5)
        response = sign_in(client, persona)
    assert response.status_code == 302, response
    assert not response["Location"].startswith("/accounts/"), response["Location"]
    return client


@pytest.fixture
def console(platform_client: Client, vendor: Persona, sign_in) -> Client:
    """The demo vendor account (an administrator: every capability), signed in."""
    return signed_in(platform_client, vendor, sign_in)


@pytest.fixture
def vendor_as(host_client, sign_in) -> Callable[[str], Client]:
    """vendor_as("support") signs in a new vendor staff member with that role."""

    def make(role: str) -> Client:
        from allauth.account.models import EmailAddress
        from allauth.mfa.totp.internal.auth import TOTP
        from django.contrib.auth import get_user_model

        from console.models import VendorStaff

        email = f"{role}@canvass.example.org"
        password = "a-vendor-staff-passphrase"
        with schema_context("public"):
            user = get_user_model().objects.create_user(
                username=email, email=email, password=password, is_staff=True
            )
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
            VendorStaff.objects.create(user=user, role=role)
            TOTP.activate(user, TOTP_SECRET)
        client = host_client("localhost")
        return signed_in(client, Persona(email, password, "public"), sign_in)

    return make


def department_id(schema_name: str) -> int:
    from tenants.models import Department

    return Department.objects.get(schema_name=schema_name).pk
