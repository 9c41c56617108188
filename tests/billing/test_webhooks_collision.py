"""Site ids start at 1 in every city: the same site id in Concord and Little Rock, each with a
subscription, and an event for one city changes that city's site only."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from billing.models import Subscription
from portal.registry.models import AuditEntry, Site

pytestmark = pytest.mark.django_db

SITE_ID = 987_654


def participation(schema_name: str) -> str:
    with schema_context(schema_name):
        return Site.objects.get(pk=SITE_ID).participation


def integration_entries(schema_name: str) -> int:
    with schema_context(schema_name):
        return AuditEntry.objects.filter(site_id=SITE_ID, action__startswith="integration").count()


def test_an_event_for_one_city_changes_only_that_city_s_site(paid_checkout, fake_stripe, deliver):
    concord = paid_checkout("concord", site_pk=SITE_ID)
    littlerock = paid_checkout("littlerock", site_pk=SITE_ID)
    assert concord.site_id == littlerock.site_id == SITE_ID

    for event in littlerock.complete().values():
        assert deliver(event).status_code == 200
    assert participation("littlerock") == Site.Participation.INTEGRATED
    assert participation("concord") == Site.Participation.REGISTERED
    assert integration_entries("concord") == 0
    assert concord.subscription.status == Subscription.Status.CHECKOUT
    assert littlerock.subscription.entitled and not concord.subscription.entitled

    for event in concord.complete().values():
        assert deliver(event).status_code == 200
    for event in fake_stripe.subscription_ends(littlerock.stripe_subscription_id):
        assert deliver(event).status_code == 200
    assert participation("littlerock") == Site.Participation.REGISTERED
    assert participation("concord") == Site.Participation.INTEGRATED
    assert integration_entries("littlerock") == 2
    assert integration_entries("concord") == 1
    assert concord.subscription.entitled and not littlerock.subscription.entitled


def test_metadata_pointing_at_the_other_city_s_subscription_is_refused(
    paid_checkout, fake_stripe, deliver
):
    """Littlerock's customer, with metadata naming Concord's local subscription: routed by the
    customer, the subscription is not found in Little Rock, and nothing changes in Concord."""
    concord = paid_checkout("concord", site_pk=SITE_ID)
    littlerock = paid_checkout("littlerock", site_pk=SITE_ID)
    littlerock.complete()
    stripe_subscription = fake_stripe.objects[littlerock.stripe_subscription_id]
    stripe_subscription["metadata"] = {
        "department": "littlerock",
        "site": str(SITE_ID),
        "subscription": str(concord.subscription_pk),
    }
    event = fake_stripe.event("customer.subscription.created", stripe_subscription)
    assert deliver(event).content == b"orphaned"
    assert concord.subscription.stripe_subscription_id is None
    assert littlerock.subscription.stripe_subscription_id is None
    assert participation("concord") == participation("littlerock") == "registered"
