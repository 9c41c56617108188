"""Billing fixtures: an in-memory Stripe injected for the test, a webhook secret, webhooks
delivered through the real endpoint signed with the Stripe SDK's own helper, and a device plan."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import stripe
from django.http import HttpResponse
from django.test import Client
from django_tenants.utils import schema_context

from billing.catalog import catalog_sync
from billing.checkout import checkout_start
from billing.fake_stripe import FakeStripe
from billing.gateway import gateway, transport_injected
from billing.models import Customer, DevicePlan, PlanOffer, Subscription
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
    """Through the resident checkout's own service (billing.checkout.checkout_start): the plan
    synced to the fake Stripe and offered by the city, the customer mapped, our subscription and
    the Checkout session with the metadata every webhook reads."""
    from portal.registry.audit import Actor
    from portal.registry.models import Participant

    department = Department.objects.get(schema_name=schema_name)
    plan = catalog_sync(plan=device_plan_for_tests())
    PlanOffer.objects.get_or_create(department=department, plan=plan)
    site_id, participant_id = site_registered(
        schema_name, email=email, language=language, site_pk=site_pk
    )
    with schema_context(schema_name):
        participant = Participant.objects.select_related("user").get(pk=participant_id)
        checkout_start(
            actor=Actor.of_participant(participant, None),
            site=Site.objects.get(pk=site_id),
            plan=plan,
            department=department,
            language=language,
            success_url=department.url("/my/"),
            cancel_url=department.url("/my/"),
        )
    subscription = Subscription.objects.get(department=department, site_id=site_id)
    assert subscription.customer is not None and subscription.checkout_session_id
    return PaidCheckout(
        fake=fake,
        schema_name=schema_name,
        site_id=site_id,
        participant_id=participant_id,
        email=email,
        customer_id=subscription.customer.stripe_customer_id,
        session_id=subscription.checkout_session_id,
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

    from billing.models import DevicePlan, Subscription
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
        subscription = Subscription.objects.create_for_site(
            department=department,
            site=site,
            plan=plan,
            customer=customer,
            checkout_session_id=session["id"],
            checkout_url=session["url"],
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
