"""Refunds and disputes reach the invoice they concern, found through its payment."""

from __future__ import annotations

import uuid

import pytest

from billing.gateway import gateway
from billing.models import Alert, Invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(paid_checkout, deliver):
    checkout = paid_checkout("concord")
    for event in checkout.complete().values():
        assert deliver(event).status_code == 200
    return checkout, checkout.events["invoice.paid"]["data"]["object"]


def refund(stripe_invoice, amount):
    intent = stripe_invoice["payments"]["data"][0]["payment"]["payment_intent"]
    return gateway().refund_create(
        {"payment_intent": intent, "amount": amount}, idempotency_key=str(uuid.uuid4())
    )


def test_refunds_raise_the_refunded_amount_to_the_charge_s(paid, fake_stripe, deliver):
    checkout, stripe_invoice = paid
    first = fake_stripe.charge_refunded_event(refund(stripe_invoice, 10_000)["id"])
    second = fake_stripe.charge_refunded_event(refund(stripe_invoice, 5_000)["id"])
    # The later event first: the charge fetched now says 15,000 either way.
    for event in second + first:
        assert deliver(event).status_code == 200
    invoice = Invoice.objects.get(stripe_invoice_id=stripe_invoice["id"])
    assert invoice.amount_refunded == 15_000
    assert invoice.refundable == 50_000 - 15_000
    assert invoice.charge_id.startswith("ch_")
    history = checkout.subscription.events.filter(kind="refunded")
    assert sorted(history.values_list("amount", flat=True)) == [15_000]


def test_a_dispute_marks_the_invoice_and_raises_an_alert(paid, fake_stripe, deliver):
    checkout, stripe_invoice = paid
    (event,) = fake_stripe.dispute(stripe_invoice["id"])
    assert deliver(event).content == b"processed"
    invoice = Invoice.objects.get(stripe_invoice_id=stripe_invoice["id"])
    assert invoice.disputed
    alert = Alert.objects.get(kind=Alert.Kind.DISPUTE)
    assert alert.subscription == checkout.subscription
    assert alert.department.schema_name == "concord"
    assert checkout.subscription.events.filter(kind="disputed").count() == 1
