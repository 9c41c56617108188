"""Events arrive in any order: the subscription is fetched from Stripe again each time, so an
early `updated`, an early `invoice.paid` or a late, stale snapshot never moves it backwards."""

from __future__ import annotations

import copy

import pytest

from billing.models import Fulfilment, Subscription
from portal.registry.models import Site

pytestmark = pytest.mark.django_db


def test_updated_before_created_finds_the_subscription_through_its_metadata(
    paid_checkout, fake_stripe, deliver
):
    checkout = paid_checkout("concord")
    checkout.complete()
    created = checkout.events["customer.subscription.created"]
    subscription = fake_stripe.objects[checkout.stripe_subscription_id]
    updated = fake_stripe.event("customer.subscription.updated", subscription)

    assert deliver(updated).status_code == 200
    local = checkout.subscription
    assert local.stripe_subscription_id == checkout.stripe_subscription_id
    assert local.status == Subscription.Status.ACTIVE
    assert deliver(created).status_code == 200
    assert checkout.subscription.status == Subscription.Status.ACTIVE
    assert list(local.events.values_list("kind", flat=True)) == [
        "status:active",
        "checkout_started",
    ]


def test_invoice_paid_before_the_checkout_completes_integrates_the_site(paid_checkout, deliver):
    checkout = paid_checkout("concord")
    events = checkout.complete()

    assert deliver(events["invoice.paid"]).content == b"processed"
    subscription = checkout.subscription
    assert subscription.stripe_subscription_id == checkout.stripe_subscription_id
    assert subscription.entitled
    assert Fulfilment.objects.filter(subscription=subscription).count() == 1
    assert checkout.site().participation == Site.Participation.INTEGRATED

    for kind in (
        "checkout.session.completed",
        "customer.subscription.created",
        "invoice.finalized",
    ):
        assert deliver(events[kind]).status_code == 200
    subscription = checkout.subscription
    assert subscription.entitled and subscription.status == Subscription.Status.ACTIVE
    assert Fulfilment.objects.filter(subscription=subscription).count() == 1
    assert subscription.invoices.get().status == "paid"


def test_an_old_updated_snapshot_after_a_cancellation_never_reactivates(
    paid_checkout, fake_stripe, deliver
):
    checkout = paid_checkout("concord")
    for event in checkout.complete().values():
        deliver(event)
    # A snapshot taken while the subscription was active, delivered after it was cancelled.
    stale = fake_stripe.event(
        "customer.subscription.updated",
        copy.deepcopy(fake_stripe.objects[checkout.stripe_subscription_id]),
    )
    for event in fake_stripe.subscription_ends(checkout.stripe_subscription_id):
        assert deliver(event).status_code == 200
    assert stale["data"]["object"]["status"] == "active"

    assert deliver(stale).status_code == 200
    subscription = checkout.subscription
    assert subscription.status == Subscription.Status.CANCELED
    assert not subscription.entitled
    assert checkout.site().participation == Site.Participation.REGISTERED
