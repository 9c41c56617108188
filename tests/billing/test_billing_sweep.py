"""The scheduled sweep ends an integration whose grace period after a failed payment is over,
and only then; running it again changes nothing."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.registry.models import AuditEntry, Site

pytestmark = pytest.mark.django_db


def sweep() -> str:
    out = StringIO()
    call_command("billing_sweep", stdout=out)
    return out.getvalue()


@pytest.fixture
def in_grace(paid_checkout, fake_stripe, deliver, settings):
    settings.BILLING_GRACE_DAYS = 14
    checkout = paid_checkout("concord")
    for event in checkout.complete().values():
        assert deliver(event).status_code == 200
    for event in fake_stripe.renewal_fails(checkout.stripe_subscription_id):
        assert deliver(event).status_code == 200
    assert checkout.subscription.grace_until is not None
    return checkout


def test_within_the_grace_period_the_site_stays_integrated(in_grace):
    with time_machine.travel(timezone.now() + timedelta(days=13), tick=False):
        assert sweep().startswith("0 ")
    assert in_grace.subscription.entitled
    assert in_grace.site().participation == Site.Participation.INTEGRATED


def test_after_the_grace_period_the_site_returns_to_registered_once(in_grace):
    with time_machine.travel(timezone.now() + timedelta(days=15), tick=False):
        assert sweep().startswith("1 ")
        assert sweep().startswith("0 ")
    subscription = in_grace.subscription
    assert not subscription.entitled
    assert subscription.status == "past_due"
    assert in_grace.site().participation == Site.Participation.REGISTERED
    with schema_context("concord"):
        assert (
            AuditEntry.objects.filter(
                site_id=in_grace.site_id, action=AuditEntry.Action.INTEGRATION_END
            ).count()
            == 1
        )


def test_a_subscription_paid_again_is_not_swept(in_grace, fake_stripe, deliver):
    for event in fake_stripe.renewal_paid(in_grace.stripe_subscription_id):
        assert deliver(event).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert sweep().startswith("0 ")
    assert in_grace.subscription.entitled
