"""The lifecycle tests' personas: vendor staff of each role, signed in on the platform site with
their second factor, as a browser would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import TOTP_SECRET, Persona


@pytest.fixture
def console(platform_client: Client, vendor: Persona, sign_in) -> Client:
    """The demo vendor account (an administrator: every capability), signed in."""
    assert sign_in(platform_client, vendor).status_code == 302
    return platform_client


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
        response = sign_in(client, Persona(email, password, "public"))
        assert response.status_code == 302, response
        assert not response["Location"].startswith("/accounts/"), response["Location"]
        return client

    return make


def department_id(schema_name: str) -> int:
    from tenants.models import Department

    return Department.objects.get(schema_name=schema_name).pk
