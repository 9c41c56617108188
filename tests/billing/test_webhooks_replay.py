"""Stripe delivers an event at least once: every type, delivered a second time, answers 200 and
changes nothing (no second device, history line, email, alert or audit entry)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from billing.gateway import gateway
from billing.models import (
    Alert,
    Fulfilment,
    Invoice,
    Subscription,
    SubscriptionEvent,
    WebhookEvent,
)
from portal.registry.models import AuditEntry, Site

pytestmark = pytest.mark.django_db


def effects(schema_name: str) -> dict[str, Any]:
    """Everything a webhook may change, in the public schema and in the city's."""
    with schema_context(schema_name):
        city = {
            "sites": list(Site.objects.order_by("pk").values_list("pk", "participation")),
            "audit": AuditEntry.objects.count(),
        }
    return {
        **city,
        "subscriptions": list(
            Subscription.objects.order_by("pk").values_list(
                "status", "entitled", "stripe_subscription_id", "grace_until", "ended_at"
            )
        ),
        "history": list(SubscriptionEvent.objects.order_by("pk").values_list("kind", "amount")),
        "invoices": list(
            Invoice.objects.order_by("pk").values_list(
                "status", "amount_paid", "amount_refunded", "disputed", "payment_failed_at"
            )
        ),
        "fulfilments": Fulfilment.objects.count(),
        "alerts": list(Alert.objects.order_by("pk").values_list("kind", "subscription")),
        "events": list(
            WebhookEvent.objects.order_by("pk").values_list("stripe_event_id", "outcome")
        ),
        "mail": len(mail.outbox),
    }


def test_every_event_delivered_twice_has_one_effect(
    paid_checkout, fake_stripe, deliver, django_capture_on_commit_callbacks
):
    checkout = paid_checkout("concord")
    delivered: list[dict[str, Any]] = []

    def twice(events: list[dict[str, Any]]) -> None:
        """Deliver each event, then again: the second delivery changes nothing."""
        for event in events:
            with django_capture_on_commit_callbacks(execute=True):
                first = deliver(event)
            once = effects("concord")
            with django_capture_on_commit_callbacks(execute=True):
                second = deliver(event)
            assert first.status_code == second.status_code == 200, event["type"]
            assert second.content == first.content
            assert effects("concord") == once, f"a replayed {event['type']} changed something"
            delivered.append(event)

    # Stripe's state moves on between deliveries, as in life: events are delivered as they come.
    twice(list(checkout.complete().values()))
    subscription_id = checkout.stripe_subscription_id
    twice(fake_stripe.renewal_fails(subscription_id))
    twice(fake_stripe.renewal_paid(subscription_id))
    paid_invoice = checkout.events["invoice.paid"]["data"]["object"]
    refund = gateway().refund_create(
        {
            "payment_intent": paid_invoice["payments"]["data"][0]["payment"]["payment_intent"],
            "amount": 5_000,
        },
        idempotency_key=str(uuid.uuid4()),
    )
    twice(fake_stripe.charge_refunded_event(refund["id"]))
    twice(fake_stripe.dispute(paid_invoice["id"]))
    twice(fake_stripe.subscription_ends(subscription_id))
    assert {event["type"] for event in delivered} >= {
        "checkout.session.completed",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_failed",
        "charge.refunded",
        "charge.dispute.created",
    }

    # And the events did act: the whole life of the subscription is there, once.
    kinds = list(SubscriptionEvent.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds.count("entitlement_started") == 1
    assert kinds.count("payment_failed") == 1
    assert kinds.count("refunded") == 1
    assert kinds.count("disputed") == 1
    assert kinds.count("entitlement_ended") == 1
    assert Invoice.objects.get(stripe_invoice_id=paid_invoice["id"]).amount_refunded == 5_000
    assert len(mail.outbox) == 1
    assert Alert.objects.filter(kind=Alert.Kind.DISPUTE).count() == 1
    assert checkout.subscription.status == Subscription.Status.CANCELED
    assert WebhookEvent.objects.count() == len(delivered)
