"""A cancelled or unpaid subscription returns the site to registered, with its registration
kept, and the city's audit trail shows when integration began and ended."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from billing.models import Subscription
from portal.registry.models import AuditEntry, Camera, Site

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("status", "expected"), [("canceled", "canceled"), ("unpaid", "unpaid")])
def test_an_ended_subscription_returns_the_site_to_registered(
    paid_checkout, fake_stripe, deliver, status, expected
):
    checkout = paid_checkout("concord")
    for event in checkout.complete().values():
        deliver(event)
    assert checkout.site().participation == Site.Participation.INTEGRATED

    for event in fake_stripe.subscription_ends(checkout.stripe_subscription_id, status):
        assert deliver(event).status_code == 200

    subscription = checkout.subscription
    assert subscription.status == expected
    assert not subscription.entitled
    assert subscription.ended_at is not None
    site = checkout.site()
    assert site.participation == Site.Participation.REGISTERED
    with schema_context("concord"):
        assert Camera.objects.filter(site_id=site.pk).count() == 1
        actions = list(
            AuditEntry.objects.filter(site_id=site.pk)
            .order_by("pk")
            .values_list("action", "actor_email")
        )
    assert [action for action, _actor in actions] == [
        AuditEntry.Action.INTEGRATION_START,
        AuditEntry.Action.INTEGRATION_END,
    ]
    assert Subscription.objects.filter(pk=subscription.pk, status=expected).exists()
