"""Billing fixtures: an in-memory Stripe injected for the test, a webhook secret, webhooks
delivered through the real endpoint signed with the Stripe SDK's own helper, and a device plan."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import stripe
from django.http import HttpResponse
from django.test import Client
from django_tenants.utils import schema_context

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


# -- the billing console's subscriptions (made without the resident checkout) -------------------


@dataclass
class ConsoleSubscription:
    """A paid device subscription of a resident's site, as Stripe and our rows have it."""

    subscription: Any  # billing.models.Subscription
    invoice: Any  # billing.models.Invoice (the first one, paid)
    site_id: int
    schema_name: str
    fake: FakeStripe

    def refresh(self) -> None:
        self.subscription.refresh_from_db()
        self.invoice.refresh_from_db()

    @property
    def participation(self) -> str:
        from portal.registry.models import Site

        with schema_context(self.schema_name):
            return Site.objects.get(pk=self.site_id).participation


@pytest.fixture
def console_subscription(
    fake_stripe: FakeStripe, make_resident: Callable[..., Any], site_data: Callable[..., Any]
) -> Callable[..., ConsoleSubscription]:
    """console_subscription("concord", email=...) registers a resident's site on the city's
    portal, then buys a device for it at the fake Stripe (product, prices, customer, a Checkout
    session the fake completes) and applies what Stripe then holds through billing.services:
    the subscription live, its first invoice paid, the site integrated, the device ordered."""
    from django.utils.text import slugify

    from billing.gateway import gateway
    from billing.models import Customer, DevicePlan, Subscription
    from billing.services import entitlement_start, invoice_record, subscription_state_apply
    from portal.registry.models import Site
    from tenants.demo import DEMO_CITIES
    from tenants.models import Department

    def make(
        schema_name: str = "concord",
        *,
        email: str = "owner@example.org",
        plan_slug: str = "console-hub",
        device_price: int = 35_000,
        yearly_price: int = 15_000,
        address: str = "",
    ) -> ConsoleSubscription:
        stripe = gateway()
        resident = make_resident(schema_name, email=email)
        city = next(city for city in DEMO_CITIES if city.subdomain == schema_name)
        place = {
            "address": address or f"{100 + len(email)} Main St, {city.city}, {city.state}",
            "latitude": f"{city.center[0]:.4f}",
            "longitude": f"{city.center[1]:.4f}",
            # Where integration is offered the form asks; paying is what integrates.
            "participation": "registered",
        }
        response = resident.client.post("/register/", site_data(**place))
        assert response.status_code == 302, response.status_code
        with schema_context(schema_name):
            site = Site.objects.filter(participant__user__email=email).latest("pk")
        department = Department.objects.get(schema_name=schema_name)
        plan = DevicePlan.objects.filter(slug=plan_slug).first()
        if plan is None:
            product = stripe.product_create(
                {"name": plan_slug}, idempotency_key=f"test-product-{plan_slug}"
            )
            device = stripe.price_create(
                {"product": product["id"], "unit_amount": device_price, "currency": "usd"},
                idempotency_key=f"test-device-{plan_slug}",
            )
            yearly = stripe.price_create(
                {
                    "product": product["id"],
                    "unit_amount": yearly_price,
                    "currency": "usd",
                    "recurring": {"interval": "year"},
                },
                idempotency_key=f"test-yearly-{plan_slug}",
            )
            plan = DevicePlan.objects.create(
                slug=slugify(plan_slug),
                name=f"Hub {plan_slug}",
                cameras_supported=4,
                storage_gb=500,
                device_price=device_price,
                yearly_price=yearly_price,
                description_en="A hub.",
                description_es="Un concentrador.",
                stripe_product_id=product["id"],
                stripe_device_price_id=device["id"],
                stripe_yearly_price_id=yearly["id"],
            )
        stripe_customer = stripe.customer_create(
            {"email": email}, idempotency_key=f"test-customer-{schema_name}-{site.pk}"
        )
        customer = Customer.objects.create(
            stripe_customer_id=stripe_customer["id"],
            department=department,
            participant_id=site.participant_id,
            email=email,
        )
        metadata = {"department": schema_name, "site": str(site.pk)}
        session = stripe.checkout_session_create(
            {
                "mode": "subscription",
                "customer": customer.stripe_customer_id,
                "line_items": [
                    {"price": plan.stripe_device_price_id, "quantity": 1},
                    {"price": plan.stripe_yearly_price_id, "quantity": 1},
                ],
                "metadata": metadata,
                "subscription_data": {"metadata": metadata},
                "success_url": f"http://{schema_name}.localhost/billing/done/",
                "cancel_url": f"http://{schema_name}.localhost/billing/cancelled/",
            },
            idempotency_key=f"test-checkout-{schema_name}-{site.pk}",
        )
        subscription = Subscription.objects.create(
            department=department,
            site_id=site.pk,
            participant_id=site.participant_id,
            site_address=site.address,
            plan=plan,
            customer=customer,
            checkout_session_id=session["id"],
            checkout_url=session["url"],
            yearly_amount=plan.yearly_price,
            currency=plan.currency,
        )
        events = fake_stripe.checkout_complete(session["id"])
        stripe_subscription_id = events[1]["data"]["object"]["id"]
        stripe_invoice_id = events[3]["data"]["object"]["id"]
        subscription = subscription_state_apply(
            subscription=subscription,
            stripe_subscription=stripe.subscription_retrieve(stripe_subscription_id),
        )
        invoice = invoice_record(
            stripe_invoice=stripe.invoice_retrieve(stripe_invoice_id), department=department
        )
        subscription = entitlement_start(subscription=subscription)
        return ConsoleSubscription(subscription, invoice, site.pk, schema_name, fake_stripe)

    return make
