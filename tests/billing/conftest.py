"""Billing fixtures: an in-memory Stripe injected for the test, a webhook secret, webhooks
delivered through the real endpoint signed with the Stripe SDK's own helper, and a device plan."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe
from django.http import HttpResponse
from django.test import Client

from billing.fake_stripe import FakeStripe
from billing.gateway import transport_injected

WEBHOOK_SECRET = "whsec_canvass_test_secret"
WEBHOOK_PATH = "/stripe/webhook/"


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with transport_injected(FakeStripe()) as fake:
        yield fake


@pytest.fixture
def webhook_secret(settings: Any) -> str:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


def signed(event: dict[str, Any], *, timestamp: int | None = None) -> tuple[str, str]:
    """The body Stripe would send and its Stripe-Signature header."""
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        body, WEBHOOK_SECRET, timestamp=timestamp
    )
    return body, header


@pytest.fixture
def deliver(platform_client: Client, webhook_secret: str) -> Callable[..., HttpResponse]:
    """deliver(event) POSTs a signed event to the platform's webhook endpoint."""

    def post(event: dict[str, Any], **kwargs: Any) -> HttpResponse:
        body, header = signed(event, **kwargs)
        return platform_client.post(
            WEBHOOK_PATH, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
        )

    return post


@pytest.fixture
def billing_vendor_email() -> str:
    """The demo vendor staff account, given billing.run_billing (within the test)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django_tenants.utils import schema_context

    from tenants.demo import VENDOR_EMAIL

    with schema_context("public"):
        user = get_user_model().objects.get(email=VENDOR_EMAIL)
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="billing", codename="run_billing")
        )
    return VENDOR_EMAIL


@pytest.fixture
def catalog_vendor_client(platform_client: Client, billing_vendor_email: str) -> Client:
    """The platform's console, signed in as vendor billing staff (second factor set up)."""
    from django.contrib.auth import get_user_model
    from django_tenants.utils import schema_context

    with schema_context("public"):
        platform_client.force_login(get_user_model().objects.get(email=billing_vendor_email))
    return platform_client
