"""When Stripe cannot be asked for the current state, the endpoint answers 500 and records
nothing, so that Stripe delivers the event again; the later delivery is processed."""

from __future__ import annotations

import pytest

from billing.models import Subscription, WebhookEvent
from portal.registry.models import Site

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("how", ["timeout", "server"])
def test_stripe_unreachable_while_handling_records_nothing(
    paid_checkout, fake_stripe, deliver, how
):
    checkout = paid_checkout("concord")
    event = checkout.complete()["invoice.paid"]
    fake_stripe.fail_next(how)

    response = deliver(event)
    assert response.status_code == 500
    assert b"again" in response.content
    assert not WebhookEvent.objects.filter(stripe_event_id=event["id"]).exists()
    subscription = checkout.subscription
    assert subscription.status == Subscription.Status.CHECKOUT and not subscription.entitled
    assert not subscription.invoices.exists()
    assert checkout.site().participation == Site.Participation.REGISTERED

    # Stripe retries later.
    assert deliver(event).content == b"processed"
    assert checkout.subscription.entitled
    assert checkout.site().participation == Site.Participation.INTEGRATED
