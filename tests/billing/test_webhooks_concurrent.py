"""Stripe may deliver the same event twice at once: two threads, two connections, committed
transactions. The second delivery waits on the event's unique row until the first commits, then
finds it done: one effect, both answered 200."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django.http import HttpResponse
from django.test import Client
from django_tenants.utils import schema_context

from billing.models import (
    Alert,
    Customer,
    DevicePlan,
    Invoice,
    PlanOffer,
    Subscription,
    SubscriptionEvent,
    WebhookEvent,
)
from tests.billing.conftest import WEBHOOK_PATH, PaidCheckout, paid_checkout_make, signed
from tests.conftest import assert_test_database

EMAIL = "concurrent@webhooks.example.org"


@pytest.fixture
def committed(
    django_db_setup, fake_stripe, webhook_secret, django_db_blocker
) -> Iterator[PaidCheckout]:
    """A subscription whose first invoice is recorded, all committed; removed afterwards."""
    with django_db_blocker.unblock():
        assert_test_database()
        checkout = paid_checkout_make(fake_stripe, "concord", email=EMAIL)
        try:
            # Recorded and linked, without entitlement (which would write to the city's
            # append-only audit trail, and a committed test must leave nothing behind).
            assert deliver(checkout.complete()["invoice.finalized"]).status_code == 200
            yield checkout
        finally:
            subscriptions = Subscription.objects.filter(pk=checkout.subscription_pk)
            events = [event["id"] for event in checkout.events.values()]
            Alert.objects.filter(subscription__in=subscriptions).delete()
            WebhookEvent.objects.filter(department__schema_name="concord").delete()
            WebhookEvent.objects.filter(stripe_event_id__in=events).delete()
            SubscriptionEvent.objects.filter(subscription__in=subscriptions).delete()
            Invoice.objects.filter(subscription__in=subscriptions).delete()
            subscriptions.delete()
            Customer.objects.filter(stripe_customer_id=checkout.customer_id).delete()
            PlanOffer.objects.filter(plan__slug="hub-webhooks").delete()
            DevicePlan.objects.filter(slug="hub-webhooks", subscriptions__isnull=True).delete()
            with schema_context("concord"):
                get_user_model().objects.filter(email=EMAIL).delete()
            connections.close_all()


def deliver(event: dict) -> HttpResponse:
    body, header = signed(event)
    return Client(HTTP_HOST="localhost").post(
        WEBHOOK_PATH, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def test_the_same_event_delivered_twice_at_once_has_one_effect(
    committed, fake_stripe, django_db_blocker
):
    invoice_id = committed.events["invoice.finalized"]["data"]["object"]["id"]
    (event,) = fake_stripe.dispute(invoice_id)
    # The dispute's handler asks Stripe for the charge: slow, so both deliveries overlap.
    fake_stripe.latency = 0.3
    start = threading.Barrier(2)
    answers: list[int] = []

    def delivery() -> None:
        try:
            start.wait()
            answers.append(deliver(event).status_code)
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=delivery) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert answers == [200, 200]
        assert WebhookEvent.objects.filter(stripe_event_id=event["id"]).count() == 1
        assert Alert.objects.filter(stripe_event_id=event["id"], kind="dispute").count() == 1
        history = SubscriptionEvent.objects.filter(stripe_event_id=event["id"], kind="disputed")
        assert history.count() == 1
        assert Invoice.objects.get(stripe_invoice_id=invoice_id).disputed
