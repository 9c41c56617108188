"""The one Stripe gateway: the only importer of the SDK, the API version pinned, an idempotency
key on every creating call, Stripe's failures turned into two plain errors, webhooks verified."""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import stripe

from billing.fake_stripe import FakeStripe, example
from billing.gateway import (
    API_VERSION,
    PaymentsNotConfigured,
    StripeRefused,
    StripeUnavailable,
    WebhookRefused,
    gateway,
    transport_injected,
)
from tests.billing.conftest import WEBHOOK_SECRET, signed

ROOT = Path(__file__).resolve().parents[2]


class HeaderRecorder:
    """A transport in front of the fake that keeps every request's headers."""

    def __init__(self, fake: FakeStripe) -> None:
        self.fake = fake
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: str | None
    ) -> tuple[str, int, Mapping[str, str]]:
        self.seen.append((method, url, {k.lower(): v for k, v in headers.items()}))
        return self.fake.request(method, url, headers, body)


def test_only_the_gateway_imports_the_stripe_sdk() -> None:
    importers = []
    for folder in ("billing", "portal", "tenants", "platform"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = (
                    [alias.name for alias in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else []
                )
                if any(name == "stripe" or name.startswith("stripe.") for name in names):
                    importers.append(str(path.relative_to(ROOT)))
    assert importers == ["billing/gateway.py"]


def test_without_a_key_payments_are_off(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(PaymentsNotConfigured):
        gateway()


def test_every_call_names_the_pinned_api_version_and_creating_calls_an_idempotency_key() -> None:
    recorder = HeaderRecorder(FakeStripe())
    with transport_injected(recorder):
        stripe_gateway = gateway()
        product = stripe_gateway.product_create({"name": "Hub"}, idempotency_key="product-hub")
        stripe_gateway.price_create(
            {"product": product["id"], "unit_amount": 15000, "currency": "usd"},
            idempotency_key="price-hub",
        )
        stripe_gateway.product_retrieve(product["id"])
    assert [headers["stripe-version"] for _m, _u, headers in recorder.seen] == [API_VERSION] * 3
    posts = [headers for method, _url, headers in recorder.seen if method == "post"]
    assert [headers.get("idempotency-key") for headers in posts] == ["product-hub", "price-hub"]


def test_a_creating_call_without_an_idempotency_key_is_refused_before_stripe(
    fake_stripe: FakeStripe,
) -> None:
    with pytest.raises(ValueError):
        gateway().customer_create({"email": "owner@example.org"}, idempotency_key="")
    assert fake_stripe.requests == []


def test_the_same_idempotency_key_creates_once(fake_stripe: FakeStripe) -> None:
    first = gateway().customer_create({"email": "a@example.org"}, idempotency_key="customer-1")
    again = gateway().customer_create({"email": "a@example.org"}, idempotency_key="customer-1")
    assert first["id"] == again["id"]
    assert sum(obj["object"] == "customer" for obj in fake_stripe.objects.values()) == 1


@pytest.mark.parametrize("how", ["timeout", "server"])
def test_an_unreachable_or_failing_stripe_is_unavailable(fake_stripe: FakeStripe, how: str) -> None:
    fake_stripe.fail_next(how)
    with pytest.raises(StripeUnavailable):
        gateway().customer_create({"email": "a@example.org"}, idempotency_key="c-1")


def test_a_refusal_carries_stripes_message_and_code(fake_stripe: FakeStripe) -> None:
    with pytest.raises(StripeRefused) as refused:
        gateway().subscription_retrieve("sub_does_not_exist")
    assert refused.value.code == "resource_missing"
    assert "sub_does_not_exist" in refused.value.message
    fake_stripe.fail_next("declined")
    with pytest.raises(StripeRefused) as declined:
        gateway().customer_create({"email": "a@example.org"}, idempotency_key="c-2")
    assert declined.value.code == "card_declined"


def test_the_fake_answers_in_the_shape_of_stripes_examples(fake_stripe: FakeStripe) -> None:
    customer = gateway().customer_create({"email": "a@example.org"}, idempotency_key="c-3")
    assert set(example("customer")) <= set(customer)


def test_a_webhook_is_read_only_with_a_valid_recent_signature(settings: Any) -> None:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    event = FakeStripe().event("customer.created", example("customer"))
    body, header = signed(event)
    assert gateway_event(body, header)["id"] == event["id"]
    with pytest.raises(WebhookRefused):
        gateway_event(body, None)
    with pytest.raises(WebhookRefused):
        gateway_event(body.replace("customer.created", "customer.deleted"), header)
    stale_body, stale = signed(event, timestamp=int(time.time()) - 3600)
    with pytest.raises(WebhookRefused):
        gateway_event(stale_body, stale)
    not_json = "this is not json"
    header = stripe.WebhookSignature.generate_signature_header(not_json, WEBHOOK_SECRET)
    with pytest.raises(WebhookRefused):
        gateway_event(not_json, header)
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(WebhookRefused):
        gateway_event(body, header)


def gateway_event(body: str, header: str | None) -> dict[str, Any]:
    from billing.gateway import Gateway

    event = Gateway.webhook_event(body.encode(), header)
    json.dumps(event)  # plain data, not SDK objects
    return event
