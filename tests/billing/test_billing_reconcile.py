"""Stripe reconciliation (billing.reconcile, the scheduled billing_reconcile job): when webhooks
never arrived, what Stripe holds is applied through the webhook's own path, the correction is
recorded, and a second run (or the late webhook) changes nothing."""

from __future__ import annotations

import pytest
from django.core import mail

from billing.gateway import gateway
from billing.models import Alert, Invoice, Subscription, SubscriptionEvent, WebhookEvent
from billing.reconcile import department_reconcile
from billing.tasks import billing_reconcile
from portal.registry.models import Site
from tenants.models import Department

pytestmark = pytest.mark.django_db


def reconcile(schema_name: str = "concord") -> list[str]:
    department = Department.objects.get(schema_name=schema_name)
    return department_reconcile(department=department, client=gateway()).corrected


def history(subscription: Subscription, kind: str) -> int:
    return SubscriptionEvent.objects.filter(subscription=subscription, kind=kind).count()


def test_a_paid_checkout_whose_webhooks_never_came_integrates_the_site_once(
    paid_checkout, deliver, django_capture_on_commit_callbacks
):
    checkout = paid_checkout("concord")
    events = checkout.complete()  # paid at Stripe; not one event delivered

    with django_capture_on_commit_callbacks(execute=True):
        corrected = reconcile()
    invoice_id = events["invoice.paid"]["data"]["object"]["id"]
    assert corrected == [
        f"reconcile:{checkout.session_id}:completed",
        f"reconcile:{invoice_id}:paid",
    ]
    subscription = checkout.subscription
    assert subscription.status == Subscription.Status.ACTIVE
    assert subscription.entitled
    assert checkout.site().participation == Site.Participation.INTEGRATED
    assert Invoice.objects.get(stripe_invoice_id=invoice_id).status == "paid"
    recorded = WebhookEvent.objects.filter(stripe_event_id__startswith="reconcile:")
    assert {(r.type, r.department.schema_name) for r in recorded} == {
        ("checkout.session.completed", "concord"),
        ("invoice.paid", "concord"),
    }

    # Nothing left to correct; and the webhooks arriving late change nothing either.
    assert reconcile() == []
    for event in events.values():
        assert deliver(event).status_code == 200
    subscription = checkout.subscription
    assert history(subscription, "entitlement_started") == 1
    assert Invoice.objects.filter(subscription=subscription).count() == 1


def test_a_failed_renewal_never_delivered_starts_the_grace_period_once(
    paid_checkout, deliver, fake_stripe, django_capture_on_commit_callbacks
):
    checkout = paid_checkout("carrollton", email="renewal@example.org")
    for event in checkout.complete().values():
        assert deliver(event).status_code == 200
    fake_stripe.renewal_fails(checkout.stripe_subscription_id)  # events lost
    mail.outbox = []

    with django_capture_on_commit_callbacks(execute=True):
        corrected = reconcile("carrollton")
        assert reconcile("carrollton") == []
    assert len(corrected) == 2
    subscription = checkout.subscription
    assert subscription.status == "past_due"
    assert subscription.grace_until is not None
    assert subscription.entitled  # kept during the grace period
    assert (
        Alert.objects.filter(kind=Alert.Kind.PAYMENT_FAILED, subscription=subscription).count() == 1
    )
    assert [message.to for message in mail.outbox] == [["renewal@example.org"]]
    # Concord's reconciliation does not touch Carrollton's subscription.
    assert reconcile("concord") == []


def test_a_cancellation_never_delivered_ends_the_integration(paid_checkout, deliver, fake_stripe):
    checkout = paid_checkout("concord", email="leaving@example.org")
    for event in checkout.complete().values():
        assert deliver(event).status_code == 200
    fake_stripe.subscription_ends(checkout.stripe_subscription_id)

    assert len(reconcile()) == 1
    subscription = checkout.subscription
    assert subscription.status == "canceled"
    assert not subscription.entitled
    assert checkout.site().participation == Site.Participation.REGISTERED
    assert reconcile() == []


def test_in_step_with_stripe_nothing_is_corrected(paid_checkout, deliver):
    checkout = paid_checkout("concord", email="steady@example.org")
    for event in checkout.complete().values():
        assert deliver(event).status_code == 200
    before = WebhookEvent.objects.count()
    assert reconcile() == []
    assert WebhookEvent.objects.count() == before


def test_the_job_says_so_when_payments_are_not_configured(settings, caplog):
    settings.STRIPE_SECRET_KEY = ""
    result = billing_reconcile.apply(headers={"_schema_name": "concord"})
    assert result.result == "payments not configured"


def test_the_job_stops_quietly_when_stripe_is_unreachable(paid_checkout, fake_stripe):
    checkout = paid_checkout("concord", email="offline@example.org")
    checkout.complete()
    fake_stripe.fail_next("timeout", on="/v1/checkout/sessions")
    result = billing_reconcile.apply(headers={"_schema_name": "concord"})
    assert result.result == "Stripe unreachable"
    assert checkout.subscription.status == Subscription.Status.CHECKOUT
    # The next run carries on.
    result = billing_reconcile.apply(headers={"_schema_name": "concord"})
    assert result.result == "3 checked against Stripe, 2 corrected"
    assert checkout.subscription.entitled


def test_the_command_reconciles_every_active_department(paid_checkout):
    from io import StringIO

    from django.core.management import call_command

    checkout = paid_checkout("carrollton", email="command@example.org")
    checkout.complete()
    out = StringIO()
    call_command("billing_reconcile", stdout=out)
    assert "carrollton: 3 checked against Stripe, 2 corrected" in out.getvalue()
    assert f"  corrected: reconcile:{checkout.session_id}:completed" in out.getvalue()
    assert checkout.subscription.entitled
