"""Who reaches the billing console: vendor staff with a second factor and the billing.run_billing
permission. Other vendor staff get 403, staff without a second factor are sent to set one up,
visitors to sign in, and a city's own accounts never reach it."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django_tenants.utils import schema_context

from tests.conftest import TOTP_SECRET

pytestmark = pytest.mark.django_db

PAGES = [
    "/console/billing/",
    "/console/billing/revenue/",
    "/console/billing/problems/",
    "/console/billing/fulfilment/",
]


def vendor_staff(host_client, *, email: str, billing: bool, mfa: bool = True, staff: bool = True):
    with schema_context("public"):
        user = get_user_model().objects.create_user(
            username=email, email=email, password="x-long-passphrase", is_staff=staff
        )
        if billing:
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label="billing", codename="run_billing")
            )
        if mfa:
            TOTP.activate(user, TOTP_SECRET)
        client = host_client("localhost")
        client.force_login(user)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_vendor_staff_with_the_billing_permission_get_in(host_client, path):
    client = vendor_staff(host_client, email="billing@canvass.example.org", billing=True)
    response = client.get(path)
    assert response.status_code == 200
    assert b'href="/console/billing/revenue/"' in response.content


@pytest.mark.parametrize("path", PAGES)
def test_vendor_staff_without_the_billing_permission_get_403(host_client, path):
    client = vendor_staff(host_client, email="onboarding@canvass.example.org", billing=False)
    assert client.get("/console/").status_code == 200
    assert b"/console/billing/" not in client.get("/console/").content
    assert client.get(path).status_code == 403


def test_a_refund_without_the_billing_permission_is_403(host_client, console_subscription):
    made = console_subscription()
    client = vendor_staff(host_client, email="onboarding@canvass.example.org", billing=False)
    response = client.post(
        f"/console/billing/invoices/{made.invoice.pk}/refund/",
        {"reason": "x", "token": "a-form-token-0123456789"},
    )
    assert response.status_code == 403
    made.refresh()
    assert made.invoice.amount_refunded == 0


def test_billing_staff_without_a_second_factor_are_sent_to_set_it_up(host_client):
    client = vendor_staff(host_client, email="new@canvass.example.org", billing=True, mfa=False)
    response = client.get("/console/billing/revenue/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_permission_without_staff_status_is_not_enough(host_client):
    client = vendor_staff(host_client, email="x@example.org", billing=True, staff=False)
    assert client.get("/console/billing/").status_code == 403


def test_visitors_are_sent_to_sign_in(platform_client):
    response = platform_client.get("/console/billing/revenue/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_demo_vendor_reaches_billing_after_signing_in(platform_client, vendor, sign_in):
    sign_in(platform_client, vendor)
    response = platform_client.get("/console/")
    assert b'href="/console/billing/"' in response.content
    assert platform_client.get("/console/billing/").status_code == 200
    with schema_context("public"):
        user = get_user_model().objects.get(email=vendor.email)
        assert user.user_permissions.filter(codename="run_billing").exists()


def test_a_city_host_has_no_billing_console(admin):
    assert admin.client.get("/console/billing/").status_code == 404
