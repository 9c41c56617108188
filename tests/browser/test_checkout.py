"""An owner on Little Rock buys an integration device in a real browser, in English and in
Spanish: they choose a plan on their site and are sent to Stripe Checkout. The test stops at the
redirect to Stripe: the navigation to checkout.stripe.com is intercepted, and its URL must be the
session the fake Stripe made.

The fake Stripe is injected process-wide (transport_injected), so the live server's thread uses
it too. What follows the payment (the signed invoice.paid webhook, the site integrated, vendor
staff marking the device shipped) is the last test: the events the fake Stripe sends for the
payment are delivered signed to the platform's webhook endpoint over HTTP, the owner then sees
their site integrated with the device ordered, and vendor staff mark it shipped in the billing
console's fulfilment queue."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.fake_stripe import FakeStripe, Obj
from billing.gateway import transport_injected
from billing.models import Customer, DevicePlan, Fulfilment, PlanOffer, Subscription, WebhookEvent
from portal.registry.models import Site
from portal.registry.services import participant_create
from tenants.demo import VENDOR_EMAIL
from tests.billing.conftest import WEBHOOK_SECRET, signed
from tests.billing.plans import HUB_4, HUB_16, plan_make, plan_sync, plans_offer
from tests.browser.conftest import EMAIL_DOMAIN

PASSWORD = "a-long-enough-passphrase"
ADDRESS = "500 President Clinton Ave, Little Rock, AR 72201"


@dataclass(frozen=True)
class Owner:
    email: str
    site_id: int


@pytest.fixture
def checkout_world(committed_db: None) -> Iterator[tuple[FakeStripe, list[DevicePlan]]]:
    """A fake Stripe for this process (the live server's thread included), two plans synced to
    it and offered by Little Rock (Hub 16 first); everything removed afterwards."""
    with transport_injected(FakeStripe()) as fake:
        plans = [plan_sync(plan_make(HUB_16)), plan_sync(plan_make(HUB_4))]
        plans_offer("littlerock", *plans)
        try:
            yield fake, plans
        finally:
            Subscription.objects.filter(plan__in=plans).delete()
            Customer.objects.filter(department__schema_name="littlerock").filter(
                email__endswith=f"@{EMAIL_DOMAIN}"
            ).delete()
            PlanOffer.objects.filter(plan__in=plans).delete()
            DevicePlan.objects.filter(pk__in=[plan.pk for plan in plans]).delete()


def owner_with_a_site(name: str, language: str) -> Owner:
    """A Little Rock resident with a confirmed email and one registered site (committed; the
    browser fixtures delete accounts on the test domain)."""
    email = f"{name}@{EMAIL_DOMAIN}"
    with schema_context("littlerock"):
        user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        participant = participant_create(user=user, language=language)
        site = Site.objects.create(
            participant=participant,
            address=ADDRESS,
            latitude=34.7465,
            longitude=-92.2896,
            contact_name=name.title(),
            contact_email=email,
            terms_version=1,
            terms_accepted_at=timezone.now(),
        )
    return Owner(email, site.pk)


def sign_in(page, base: str, owner: Owner) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def owner_reaches_checkout(
    page, base: str, fake: FakeStripe, owner: Owner, *, integrate: str, pay: str, plan: str
) -> Subscription:
    """From "My cameras", the owner opens their site's integration page, chooses `plan` and
    pays: the browser's navigation to Stripe is caught, and must be the fake's session for this
    site. Returns our subscription, awaiting payment."""
    reached: list[str] = []

    def at_stripe(route) -> None:
        reached.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>Stripe Checkout</title>")

    page.route(re.compile(r"^https://checkout\.stripe\.com/"), at_stripe)
    page.goto(base + "/my/")
    page.get_by_role("link", name=f"{integrate} {ADDRESS}").click()
    page.get_by_label(plan, exact=True).check()
    page.get_by_role("button", name=pay).click()
    page.wait_for_url(re.compile(r"^https://checkout\.stripe\.com/c/pay/cs_test_"))
    subscription = Subscription.objects.get(
        department__schema_name="littlerock", site_id=owner.site_id
    )
    assert reached == [subscription.checkout_url]
    session = fake.objects[subscription.checkout_session_id]
    assert session["url"] == subscription.checkout_url
    assert session["metadata"]["site"] == str(owner.site_id)
    return subscription


def payment_events(fake: FakeStripe, subscription: Subscription) -> list[Obj]:
    """The owner pays at Stripe: the events Stripe sends (checkout.session.completed,
    customer.subscription.created, invoice.finalized, invoice.paid), to deliver signed to the
    webhook endpoint."""
    assert subscription.checkout_session_id
    return fake.checkout_complete(subscription.checkout_session_id)


def test_an_owner_chooses_a_plan_in_english_and_is_sent_to_checkout(page, live_url, checkout_world):
    fake, _plans = checkout_world
    base = live_url.format(city="littlerock")
    owner = owner_with_a_site("lena", "en")
    sign_in(page, base, owner)
    subscription = owner_reaches_checkout(
        page, base, fake, owner, integrate="Integrate", pay="Pay with Stripe", plan="Hub 4"
    )
    session = fake.objects[subscription.checkout_session_id]
    assert session["locale"] == "en"
    assert subscription.plan.slug == "hub-4"
    assert subscription.status == Subscription.Status.CHECKOUT
    with schema_context("littlerock"):
        # Nothing is integrated on the way to Stripe: that waits for the paid invoice.
        assert Site.objects.get(pk=owner.site_id).participation == Site.Participation.REGISTERED
    assert len(payment_events(fake, subscription)) == 4


def test_an_owner_chooses_a_plan_in_spanish_and_is_sent_to_checkout(page, live_url, checkout_world):
    fake, _plans = checkout_world
    base = live_url.format(city="littlerock")
    owner = owner_with_a_site("lucia", "es")
    page.goto(base + "/")
    page.get_by_role("button", name="Español").click()
    sign_in(page, base, owner)
    subscription = owner_reaches_checkout(
        page, base, fake, owner, integrate="Integrar", pay="Pagar con Stripe", plan="Hub 16"
    )
    session = fake.objects[subscription.checkout_session_id]
    assert session["locale"] == "es"
    assert session["success_url"].endswith("?lang=es")
    assert subscription.plan.slug == "hub-16"


def webhook_deliver(platform_base: str, event: Obj) -> int:
    """POST one event to the platform's webhook endpoint as Stripe does: the raw JSON body
    signed with the SDK's own helper (tests.billing.conftest.signed)."""
    body, header = signed(event)
    request = urllib.request.Request(
        platform_base + "/stripe/webhook/",
        data=body.encode(),
        headers={"Content-Type": "application/json", "Stripe-Signature": header},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def vendor_signed_in(page, platform_base: str) -> None:
    """The demo vendor (billing role, second factor set up), signed in by session cookie: the
    sign-in form and its second factor have their own browser tests."""
    client = Client(HTTP_HOST="localhost")
    with schema_context("public"):
        client.force_login(get_user_model().objects.get(email=VENDOR_EMAIL))
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": platform_base,
            }
        ]
    )


def test_after_the_signed_payment_webhook_the_site_is_integrated_and_vendor_staff_ship_it(
    page, live_url, checkout_world, settings
):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    fake, _plans = checkout_world
    base = live_url.format(city="littlerock")
    platform_base = live_url.replace("{city}.", "")
    owner = owner_with_a_site("leona", "en")
    sign_in(page, base, owner)
    subscription = owner_reaches_checkout(
        page, base, fake, owner, integrate="Integrate", pay="Pay with Stripe", plan="Hub 4"
    )
    events = payment_events(fake, subscription)
    try:
        # Stripe's usual order, but the payment first: integration follows the paid invoice.
        paid = next(event for event in events if event["type"] == "invoice.paid")
        for event in [paid, *(event for event in events if event is not paid)]:
            assert webhook_deliver(platform_base, event) == 200

        page.goto(base + "/my/")
        card = page.locator("section.integration")
        assert "Active" in card.inner_text() and "Ordered" in card.inner_text()
        with schema_context("littlerock"):
            site = Site.objects.get(pk=owner.site_id)
            assert site.participation == Site.Participation.INTEGRATED

        vendor_signed_in(page, platform_base)
        page.goto(platform_base + "/console/billing/fulfilment/")
        row = page.locator("tr", has_text=ADDRESS).filter(has_text="Hub 4")
        row.get_by_label("Carrier").fill("UPS")
        row.get_by_label("Tracking number").fill("1Z999AA10123456784")
        row.get_by_role("button", name="Mark shipped").click()
        page.wait_for_load_state()
        fulfilment = Fulfilment.objects.get(subscription=subscription)
        assert (fulfilment.state, fulfilment.carrier) == (Fulfilment.State.SHIPPED, "UPS")

        page.goto(base + "/my/")
        assert (
            "Shipped · UPS 1Z999AA10123456784" in page.locator("section.integration").inner_text()
        )
    finally:
        WebhookEvent.objects.filter(stripe_event_id__in=[event["id"] for event in events]).delete()
