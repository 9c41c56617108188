"""Residents see each site's device subscription on their portal (plan, status, renewal, device,
invoices, a failed payment's grace period) and reach Stripe's customer portal from it; opting out
cancels their subscriptions at Stripe in the same action, and is never blocked by payments."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.template.defaultfilters import date as date_format
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.fake_stripe import FakeStripe
from billing.gateway import transport_injected
from billing.models import Alert, Fulfilment, StripeRetry, Subscription
from billing.services import grace_start
from portal.registry.models import AuditEntry, Site
from tests.billing.payments import checkout_paid
from tests.billing.plans import HUB_4, plan_make, plan_sync, plans_offer
from tests.billing.test_checkout import LITTLE_ROCK, site_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(make_resident, site_data):
    alice = make_resident("littlerock")
    assert alice.client.post("/register/", site_data(**LITTLE_ROCK)).status_code == 302
    return alice


def checkout(owner, plan) -> Subscription:
    site = site_of(owner)
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": plan.pk})
    assert response.status_code == 303
    return Subscription.objects.get(site_id=site.pk, department__schema_name="littlerock")


@pytest.fixture
def paid(owner, checkout_plans, fake_stripe) -> Subscription:
    return checkout_paid(fake_stripe, checkout(owner, checkout_plans[1]))


def test_a_paid_site_shows_its_plan_renewal_device_and_invoices(owner, paid):
    assert site_of(owner).participation == Site.Participation.INTEGRATED
    page = owner.client.get("/my/").content.decode()
    assert "Hub 16 · $600.00 a year" in page
    assert "<dt>Status</dt><dd>Active</dd>" in page
    with schema_context("littlerock"), timezone.override("America/Chicago"):
        renewal = timezone.localtime(paid.current_period_end).date()
    assert f"<dt>Next renewal</dt><dd>{date_format(renewal, 'DATE_FORMAT')}</dd>" in page
    assert "<dt>Device</dt><dd>Ordered</dd>" in page
    invoice = paid.invoices.get()
    assert invoice.hosted_invoice_url in page
    assert "$2,400.00" in page  # the device and the first year, paid together
    assert "Manage card, invoices and cancellation" in page
    assert f"Integrate {LITTLE_ROCK['address']}" not in page


def test_a_shipped_device_shows_its_tracking_number(owner, paid):
    Fulfilment.objects.filter(subscription=paid).update(
        state=Fulfilment.State.SHIPPED, carrier="UPS", tracking_number="1Z999AA10123456784"
    )
    page = owner.client.get("/my/").content.decode()
    assert "Shipped · UPS 1Z999AA10123456784" in page


def test_a_failed_payment_shows_the_grace_period(owner, paid):
    Subscription.objects.filter(pk=paid.pk).update(status=Subscription.Status.PAST_DUE)
    paid.refresh_from_db()
    grace_start(subscription=paid)
    page = owner.client.get("/my/").content.decode()
    assert "Your last payment failed. Update your card by" in page
    assert "<dd>Payment failed</dd>" in page


def test_the_page_is_in_spanish_for_a_spanish_speaking_owner(owner, paid):
    owner.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = owner.client.get("/my/").content.decode()
    assert "Próxima renovación" in page
    assert "Administrar tarjeta, facturas y cancelación" in page
    assert "<dd>Pedido</dd>" in page


def test_a_registered_site_offers_integration_where_the_city_sells_devices(owner, checkout_plans):
    page = owner.client.get("/my/").content.decode()
    site = site_of(owner)
    assert f'href="/my/sites/{site.pk}/integrate/"' in page
    assert "Manage card, invoices and cancellation" not in page


def test_an_unpaid_checkout_says_integration_waits_for_the_payment(owner, checkout_plans):
    checkout(owner, checkout_plans[0])
    page = owner.client.get("/my/").content.decode()
    assert "<dd>Awaiting payment</dd>" in page
    assert "Integration starts when Stripe confirms your payment." in page


def test_the_manage_button_opens_stripes_customer_portal(owner, paid, fake_stripe):
    owner.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    response = owner.client.post("/my/billing/")
    assert response.status_code == 303
    assert response["Location"].startswith("https://billing.stripe.com/p/session/")
    [params] = fake_stripe.calls("post", "/v1/billing_portal/sessions")
    assert params["customer"] == paid.customer.stripe_customer_id
    assert urlsplit(params["return_url"]).hostname == "littlerock.localhost"
    assert urlsplit(params["return_url"]).path == "/my/"
    assert params["locale"] == "es"


def test_the_customer_portal_needs_a_subscription_first(owner, fake_stripe):
    response = owner.client.post("/my/billing/", follow=True)
    assert "You have no device plan yet: there is nothing to manage." in response.content.decode()
    assert fake_stripe.calls("post", "/v1/billing_portal/sessions") == []


def test_the_customer_portal_when_stripe_is_down(owner, paid, fake_stripe):
    fake_stripe.fail_next("timeout")
    response = owner.client.post("/my/billing/")
    assert response.status_code == 503
    assert "The payment service did not answer." in response.content.decode()


# Opting out


def test_opting_out_cancels_the_subscription_at_stripe(owner, paid, fake_stripe):
    response = owner.client.post("/my/leave/", {"confirm": "on"})
    assert response.status_code == 200
    paid.refresh_from_db()
    assert fake_stripe.objects[paid.stripe_subscription_id]["status"] == "canceled"
    assert paid.status == Subscription.Status.CANCELED
    assert not paid.entitled
    assert paid.events.filter(kind="cancelled_opt_out").exists()
    assert paid.events.filter(kind="entitlement_ended").exists()
    # The subscription row stays for the vendor's accounts, without the owner's address.
    assert LITTLE_ROCK["address"] not in paid.site_address
    assert paid.customer.email == ""
    assert not Alert.objects.exists()
    with schema_context("littlerock"):
        assert not Site.objects.exists()
        assert AuditEntry.objects.filter(action=AuditEntry.Action.INTEGRATION_END).exists()


def test_opting_out_expires_a_checkout_in_progress(owner, checkout_plans, fake_stripe):
    pending = checkout(owner, checkout_plans[0])
    owner.client.post("/my/leave/", {"confirm": "on", "close_account": "on"})
    pending.refresh_from_db()
    assert fake_stripe.objects[pending.checkout_session_id]["status"] == "expired"
    assert pending.status == Subscription.Status.INCOMPLETE_EXPIRED


@pytest.mark.parametrize("how", ["timeout", "server"])
def test_opting_out_proceeds_when_stripe_cannot_be_reached(owner, paid, fake_stripe, how):
    fake_stripe.fail_next(how)
    response = owner.client.post("/my/leave/", {"confirm": "on"})
    assert response.status_code == 200
    assert "were deleted" in response.content.decode()
    with schema_context("littlerock"):
        assert not Site.objects.exists()
    paid.refresh_from_db()
    # Police lose access at once; the cancellation Stripe missed is queued, retried with one
    # idempotency key until Stripe answers (tests/faults/test_stripe_faults.py).
    assert not paid.entitled
    assert fake_stripe.objects[paid.stripe_subscription_id]["status"] == "active"
    retry = StripeRetry.objects.get(subscription=paid)
    assert (retry.kind, retry.state) == ("cancel", "pending")
    assert paid.events.filter(kind="cancel_pending").exists()
    assert not Alert.objects.filter(kind=Alert.Kind.STRIPE_FAILURE).exists()


def test_opting_out_proceeds_without_stripe_keys(owner, settings):
    with transport_injected(FakeStripe()) as fake:
        hub = plan_sync(plan_make(HUB_4))
        plans_offer("littlerock", hub)
        paid = checkout_paid(fake, checkout(owner, hub))
    settings.STRIPE_SECRET_KEY = ""
    response = owner.client.post("/my/leave/", {"confirm": "on"})
    assert response.status_code == 200
    paid.refresh_from_db()
    assert not paid.entitled
    assert Alert.objects.filter(kind=Alert.Kind.STRIPE_FAILURE, subscription=paid).exists()


def test_opting_out_leaves_other_owners_subscriptions_alone(
    owner, make_resident, site_data, checkout_plans, fake_stripe
):
    bob = make_resident("littlerock", email="bob@example.org")
    bob.client.post(
        "/register/", site_data(**LITTLE_ROCK | {"address": "1 Main St, Little Rock, AR"})
    )
    bobs = checkout_paid(fake_stripe, checkout(bob, checkout_plans[0]))
    checkout_paid(fake_stripe, checkout(owner, checkout_plans[1]))
    owner.client.post("/my/leave/", {"confirm": "on"})
    bobs.refresh_from_db()
    assert bobs.status == Subscription.Status.ACTIVE and bobs.entitled
    assert fake_stripe.objects[bobs.stripe_subscription_id]["status"] == "active"


def test_an_ended_subscription_is_not_cancelled_twice(owner, paid, fake_stripe):
    Subscription.objects.filter(pk=paid.pk).update(
        status=Subscription.Status.CANCELED, ended_at=timezone.now() - timedelta(days=3)
    )
    owner.client.post("/my/leave/", {"confirm": "on"})
    assert fake_stripe.calls("delete", "/v1/subscriptions") == []
    assert not Alert.objects.exists()
