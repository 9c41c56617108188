"""Billing fixtures: an in-memory Stripe injected for the test, a webhook secret, webhooks
delivered through the real endpoint signed with the Stripe SDK's own helper, and a device plan."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from django.http import HttpResponse
from django.test import Client
from django_tenants.utils import schema_context

from billing.fake_stripe import FakeStripe
from billing.gateway import gateway, transport_injected
from billing.models import Customer, DevicePlan, Subscription
from portal.registry.models import Site
from tenants.models import Department
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


# -- A paid Checkout, without the resident's checkout pages (webhook tests) -------------------


@dataclass
class PaidCheckout:
    """A registered site with a device subscription awaiting payment: a Stripe customer mapped
    to the city, our Subscription (status "checkout") and an open Checkout session carrying the
    metadata the resident checkout puts there. `complete()` has the owner pay."""

    fake: FakeStripe
    schema_name: str
    site_id: int
    participant_id: int
    email: str
    customer_id: str
    session_id: str
    subscription_pk: int
    events: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def subscription(self) -> Subscription:
        return Subscription.objects.get(pk=self.subscription_pk)

    @property
    def stripe_subscription_id(self) -> str:
        return str(self.fake.objects[self.session_id]["subscription"])

    def complete(self) -> dict[str, dict[str, Any]]:
        """The owner pays: Stripe's events by type (checkout.session.completed,
        customer.subscription.created, invoice.finalized, invoice.paid)."""
        self.events = {
            event["type"]: event for event in self.fake.checkout_complete(self.session_id)
        }
        return self.events

    def site(self) -> Site:
        with schema_context(self.schema_name):
            return Site.objects.get(pk=self.site_id)


def device_plan_for_tests() -> DevicePlan:
    plan, _created = DevicePlan.objects.get_or_create(
        slug="hub-webhooks",
        defaults={
            "name": "Hub 4",
            "cameras_supported": 4,
            "storage_gb": 500,
            "device_price": 35_000,
            "yearly_price": 15_000,
            "description_en": "Links up to four cameras.",
            "description_es": "Conecta hasta cuatro cámaras.",
        },
    )
    return plan


def site_registered(
    schema_name: str, *, email: str, language: str, site_pk: int | None
) -> tuple[int, int]:
    """An owner (account and participant) with one registered site and camera, in the city's
    service area; (site id, participant id)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from portal.registry.services import participant_create, site_register

    department = Department.objects.select_related("program").get(schema_name=schema_name)
    program = department.program
    with schema_context(schema_name):
        user = get_user_model().objects.create_user(username=email, email=email)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        participant = participant_create(user=user, language=language)
        site = site_register(
            participant=participant,
            program=program,
            site={
                **({"pk": site_pk} if site_pk else {}),
                "kind": "home",
                "address": f"1 Main St, {department.name}",
                "latitude": program.center_latitude,
                "longitude": program.center_longitude,
                "contact_name": "Owner",
                "contact_email": email,
                "contact_method": "email",
            },
            cameras=[
                {
                    "label": "Porch",
                    "direction": 90,
                    "sees": ["street"],
                    "mount": "wall",
                    "recording": "motion",
                    "retention_days": 14,
                }
            ],
            language=language,
        )
        return site.pk, participant.pk


@pytest.fixture
def paid_checkout(fake_stripe: FakeStripe, db: None) -> Callable[..., PaidCheckout]:
    """paid_checkout("concord", email=..., language="es", site_pk=...) sets up a subscription
    awaiting payment for a new owner's registered site (see PaidCheckout)."""
    return lambda *args, **kwargs: paid_checkout_make(fake_stripe, *args, **kwargs)


def paid_checkout_make(
    fake: FakeStripe,
    schema_name: str = "concord",
    *,
    email: str = "owner@example.org",
    language: str = "en",
    site_pk: int | None = None,
) -> PaidCheckout:
    department = Department.objects.get(schema_name=schema_name)
    plan = device_plan_for_tests()
    site_id, participant_id = site_registered(
        schema_name, email=email, language=language, site_pk=site_pk
    )
    stripe = gateway()
    product = stripe.product_create({"name": plan.name}, idempotency_key=str(uuid.uuid4()))
    device_price = stripe.price_create(
        {"product": product["id"], "unit_amount": plan.device_price, "currency": plan.currency},
        idempotency_key=str(uuid.uuid4()),
    )
    yearly_price = stripe.price_create(
        {
            "product": product["id"],
            "unit_amount": plan.yearly_price,
            "currency": plan.currency,
            "recurring": {"interval": "year"},
        },
        idempotency_key=str(uuid.uuid4()),
    )
    stripe_customer = stripe.customer_create(
        {"email": email, "metadata": {"department": schema_name}},
        idempotency_key=str(uuid.uuid4()),
    )
    customer = Customer.objects.create(
        stripe_customer_id=stripe_customer["id"],
        department=department,
        participant_id=participant_id,
        email=email,
    )
    subscription = Subscription.objects.create(
        department=department,
        site_id=site_id,
        participant_id=participant_id,
        site_address=f"1 Main St, {department.name}",
        plan=plan,
        customer=customer,
        status=Subscription.Status.CHECKOUT,
        yearly_amount=plan.yearly_price,
        currency=plan.currency,
    )
    metadata = {
        "department": schema_name,
        "site": str(site_id),
        "participant": str(participant_id),
        "subscription": str(subscription.pk),
    }
    session = stripe.checkout_session_create(
        {
            "mode": "subscription",
            "customer": stripe_customer["id"],
            "line_items": [
                {"price": device_price["id"], "quantity": 1},
                {"price": yearly_price["id"], "quantity": 1},
            ],
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
            "success_url": department.url("/my/"),
            "cancel_url": department.url("/my/"),
        },
        idempotency_key=str(uuid.uuid4()),
    )
    subscription.checkout_session_id = session["id"]
    subscription.save(update_fields=["checkout_session_id"])
    return PaidCheckout(
        fake=fake,
        schema_name=schema_name,
        site_id=site_id,
        participant_id=participant_id,
        email=email,
        customer_id=stripe_customer["id"],
        session_id=session["id"],
        subscription_pk=subscription.pk,
    )


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
