"""What happens after Checkout, for tests of the resident's side: the owner pays at the fake
Stripe, and Stripe's word is applied through billing.services (the webhook endpoint does the same
with the events it receives; these tests do not depend on it)."""

from __future__ import annotations

from billing.fake_stripe import FakeStripe
from billing.gateway import gateway
from billing.models import Subscription
from billing.services import entitlement_start, invoice_record, subscription_state_apply


def checkout_paid(fake: FakeStripe, subscription: Subscription) -> Subscription:
    """The owner pays the subscription's Checkout: the Stripe subscription (fetched back, as the
    webhook handlers do), its first invoice recorded, and the entitlement started."""
    assert subscription.checkout_session_id
    events = fake.checkout_complete(subscription.checkout_session_id)
    session = next(e for e in events if e["type"] == "checkout.session.completed")
    stripe_subscription = gateway().subscription_retrieve(session["data"]["object"]["subscription"])
    subscription = subscription_state_apply(
        subscription=subscription, stripe_subscription=stripe_subscription
    )
    invoice = next(e for e in events if e["type"] == "invoice.paid")["data"]["object"]
    invoice_record(stripe_invoice=invoice, department=subscription.department)
    return entitlement_start(subscription=subscription)
