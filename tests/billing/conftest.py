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
from billing.models import DevicePlan
from tests.billing.plans import HUB_4, HUB_16, plan_make, plan_sync, plans_offer

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


# The resident's checkout (portal/residents + billing/checkout.py).
@pytest.fixture
def checkout_plans(fake_stripe: FakeStripe) -> tuple[DevicePlan, DevicePlan]:
    """Two plans synced to the fake Stripe, offered by Little Rock (Hub 16 first) and Carrollton
    (Hub 4 only); Concord offers none."""
    hub_4 = plan_sync(plan_make(HUB_4))
    hub_16 = plan_sync(plan_make(HUB_16))
    plans_offer("littlerock", hub_16, hub_4)
    plans_offer("carrollton", hub_4)
    return hub_4, hub_16
