"""Vendor support fixtures: vendor staff of each role signed in on the platform (a second factor
set up), and a support session requested, entered and used through the real pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import TOTP_SECRET

REASON = "Ticket 4711: the import page shows an error for the administrator"


@dataclass
class Vendor:
    client: Client
    email: str
    pk: int


@pytest.fixture
def make_vendor(host_client: Callable[[str], Client]) -> Callable[..., Vendor]:
    """make_vendor("support") is a vendor staff account of that role, signed in on the
    platform with an authenticator app set up."""

    def make(role: str = "support", *, email: str | None = None) -> Vendor:
        from allauth.mfa.totp.internal.auth import TOTP
        from django.contrib.auth import get_user_model

        from console.models import VendorStaff

        email = email or f"{role}@canvass.example.org"
        with schema_context("public"):
            user = get_user_model().objects.create_user(
                username=email, email=email, password="x-long-passphrase", is_staff=True
            )
            VendorStaff.objects.create(user=user, role=role)
            TOTP.activate(user, TOTP_SECRET)
            client = host_client("localhost")
            client.force_login(user)
        return Vendor(client, email, user.pk)

    return make


def department_pk(schema_name: str) -> int:
    from tenants.models import Department

    with schema_context("public"):
        return Department.objects.get(schema_name=schema_name).pk


def support_request(vendor: Vendor, schema_name: str = "concord", **data: object):
    return vendor.client.post(
        f"/console/departments/{department_pk(schema_name)}/support/",
        {"reason": REASON, "minutes": "60"} | data,
    )


def last_session(schema_name: str = "concord"):
    from console.models import SupportSession

    with schema_context("public"):
        return SupportSession.objects.filter(department__schema_name=schema_name).latest("pk")


def entry_path(vendor: Vendor, session_id: int) -> str:
    """The platform's "Enter the console": the path (on the city's host) it sends the browser to."""
    response = vendor.client.post(f"/console/support/{session_id}/enter/")
    assert response.status_code == 302, response.content
    url = urlsplit(response["Location"])
    assert url.path.startswith("/support/enter/")
    return url.path


@dataclass
class InSupport:
    vendor: Vendor
    city: Client
    session_id: int
    host: str


@pytest.fixture
def in_support(
    make_vendor: Callable[..., Vendor], host_client: Callable[[str], Client]
) -> Callable[..., InSupport]:
    """in_support("concord") requests a session as support vendor staff and enters it: the
    city client is then in the console as the support identity."""

    def make(schema_name: str = "concord", vendor: Vendor | None = None, **data: object):
        vendor = vendor or make_vendor("support")
        response = support_request(vendor, schema_name, **data)
        assert response.status_code == 302, response.content
        session = last_session(schema_name)
        host = f"{schema_name}.localhost"
        city = host_client(host)
        entered = city.get(entry_path(vendor, session.pk))
        assert entered.status_code == 302 and entered["Location"] == "/department/"
        return InSupport(vendor, city, session.pk, host)

    return make
