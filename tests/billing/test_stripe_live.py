"""Against Stripe's test mode, when STRIPE_SECRET_KEY holds a test key (sk_test_...); skipped
otherwise, and never run with a live key: the catalog synced twice (nothing new the second
time), a Checkout session for a synced plan, and a test card's payment partly refunded."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings

from billing.catalog import catalog_sync, plan_create
from billing.gateway import gateway

KEY = os.environ.get("STRIPE_SECRET_KEY", "") or settings.STRIPE_SECRET_KEY

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not KEY.startswith("sk_test_"),
        reason="needs a Stripe test-mode key in STRIPE_SECRET_KEY (sk_test_...); "
        "never runs with a live key",
    ),
]


@pytest.fixture
def test_mode(settings):
    # Belt and braces: whatever the settings hold, only a test key reaches Stripe here.
    assert KEY.startswith("sk_test_") and not KEY.startswith(("sk_live_", "rk_live_"))
    settings.STRIPE_SECRET_KEY = KEY
    return gateway()


@pytest.fixture
def plan(test_mode):
    # A fixed code: the Product and Prices it names are found again on every run.
    return plan_create(
        slug="canvass-live-check",
        name="Canvass live check",
        cameras_supported=4,
        storage_gb=1000,
        video_search=False,
        device_price=35_000,
        yearly_price=15_000,
        currency="usd",
        description_en="Test-mode check of the catalog sync.",
        description_es="Prueba del catálogo en modo de prueba.",
    )


def test_the_catalog_syncs_and_a_second_sync_creates_nothing(test_mode, plan):
    first = catalog_sync(plan=plan)
    second = catalog_sync(plan=first)
    assert first.stripe_product_id == second.stripe_product_id == "canvass_plan_canvass-live-check"
    assert second.stripe_device_price_id == first.stripe_device_price_id
    assert second.stripe_yearly_price_id == first.stripe_yearly_price_id
    prices = test_mode.prices_by_lookup_keys([plan.device_lookup_key, plan.yearly_lookup_key])
    assert {price["id"] for price in prices} == {
        first.stripe_device_price_id,
        first.stripe_yearly_price_id,
    }


def test_a_checkout_session_for_a_synced_plan(test_mode, plan):
    plan = catalog_sync(plan=plan)
    session = test_mode.checkout_session_create(
        {
            "mode": "subscription",
            "line_items": [
                {"price": plan.stripe_device_price_id, "quantity": 1},
                {"price": plan.stripe_yearly_price_id, "quantity": 1},
            ],
            "success_url": "https://littlerock.example.org/my/?checkout=done",
            "cancel_url": "https://littlerock.example.org/my/?checkout=cancelled",
            "metadata": {"department": "littlerock", "live_check": "yes"},
        },
        idempotency_key=f"live-check-session-{uuid.uuid4()}",
    )
    assert session["url"].startswith("https://checkout.stripe.com/")
    assert session["mode"] == "subscription"
    test_mode.checkout_session_expire(session["id"])


def test_a_test_card_payment_is_partly_refunded(test_mode):
    intent = test_mode.payment_intent_create(
        {
            "amount": 5_000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "payment_method_types": ["card"],
            "confirm": True,
            "metadata": {"live_check": "yes"},
        },
        idempotency_key=f"live-check-payment-{uuid.uuid4()}",
    )
    assert intent["status"] == "succeeded"
    refund = test_mode.refund_create(
        {"payment_intent": intent["id"], "amount": 1_500},
        idempotency_key=f"live-check-refund-{intent['id']}",
    )
    assert (refund["amount"], refund["status"]) == (1_500, "succeeded")
