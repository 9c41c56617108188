"""A paid Checkout, delivered as Stripe sends it: the site becomes integrated and its device is
ordered on the paid invoice, never on the Checkout alone."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from billing.models import Fulfilment, Invoice, Subscription, WebhookEvent
from portal.registry.models import AuditEntry, Site

pytestmark = pytest.mark.django_db


def test_a_paid_checkout_integrates_the_site_and_orders_the_device(paid_checkout, deliver):
    checkout = paid_checkout("concord")
    events = checkout.complete()
    for event in events.values():
        response = deliver(event)
        assert response.status_code == 200, response.content
        assert response.content == b"processed"

    subscription = checkout.subscription
    assert subscription.stripe_subscription_id == checkout.stripe_subscription_id
    assert subscription.status == Subscription.Status.ACTIVE
    assert subscription.entitled
    assert subscription.current_period_end is not None
    assert Fulfilment.objects.get(subscription=subscription).state == "ordered"
    invoice = Invoice.objects.get(subscription=subscription)
    assert invoice.status == "paid" and invoice.amount_paid == 35_000 + 15_000
    assert invoice.payment_intent_id.startswith("pi_")
    assert checkout.site().participation == Site.Participation.INTEGRATED
    with schema_context("concord"):
        assert AuditEntry.objects.filter(
            site_id=checkout.site_id, action=AuditEntry.Action.INTEGRATION_START
        ).exists()
    recorded = WebhookEvent.objects.filter(stripe_event_id__in=[e["id"] for e in events.values()])
    assert recorded.count() == 4
    assert {record.department.schema_name for record in recorded} == {"concord"}


def test_the_checkout_alone_links_the_subscription_but_grants_nothing(paid_checkout, deliver):
    checkout = paid_checkout("concord")
    events = checkout.complete()
    assert deliver(events["checkout.session.completed"]).status_code == 200

    subscription = checkout.subscription
    assert subscription.stripe_subscription_id == checkout.stripe_subscription_id
    assert subscription.status == Subscription.Status.ACTIVE
    assert not subscription.entitled
    assert not Fulfilment.objects.filter(subscription=subscription).exists()
    assert checkout.site().participation == Site.Participation.REGISTERED
