"""A failed renewal starts a grace period; the owner is told in their language until when the
integration continues and where to update the card; billing staff get an alert."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from billing.models import Alert, Invoice
from portal.registry.models import Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def integrated(paid_checkout, deliver):
    def make(language: str):
        checkout = paid_checkout(
            "concord", email=f"owner-{language}@example.org", language=language
        )
        for event in checkout.complete().values():
            assert deliver(event).status_code == 200
        return checkout

    return make


def fail_renewal(checkout, fake_stripe, deliver, capture):
    mail.outbox = []
    with capture(execute=True):
        for event in fake_stripe.renewal_fails(checkout.stripe_subscription_id):
            assert deliver(event).status_code == 200


def test_a_failed_payment_starts_the_grace_period_and_tells_the_owner_in_spanish(
    integrated, fake_stripe, deliver, settings, django_capture_on_commit_callbacks
):
    settings.BILLING_GRACE_DAYS = 14
    checkout = integrated("es")
    fail_renewal(checkout, fake_stripe, deliver, django_capture_on_commit_callbacks)

    subscription = checkout.subscription
    assert subscription.status == "past_due"
    assert subscription.entitled
    assert abs(subscription.grace_until - (timezone.now() + timedelta(days=14))) < timedelta(
        minutes=1
    )
    assert checkout.site().participation == Site.Participation.INTEGRATED
    assert Invoice.objects.filter(subscription=subscription, status="open").get().payment_failed_at
    alert = Alert.objects.get(kind=Alert.Kind.PAYMENT_FAILED)
    assert alert.subscription == subscription and alert.department.schema_name == "concord"

    (message,) = mail.outbox
    assert message.to == [checkout.email]
    assert "no se pudo cobrar" in message.subject
    assert "Su integración continúa hasta el" in message.body
    grace_day = timezone.localtime(subscription.grace_until, subscription.department.zone)
    assert f"{grace_day.day} de " in message.body
    assert "http://concord.localhost" in message.body and "/my/" in message.body
    assert "tarjeta" in message.body


def test_an_english_speaking_owner_is_told_in_english(
    integrated, fake_stripe, deliver, django_capture_on_commit_callbacks
):
    checkout = integrated("en")
    fail_renewal(checkout, fake_stripe, deliver, django_capture_on_commit_callbacks)
    (message,) = mail.outbox
    assert "payment to" in message.subject and "failed" in message.subject
    assert "Your integration continues until" in message.body
    assert "update your card" in message.body


def test_a_second_failure_keeps_the_first_grace_date_and_the_one_alert(
    integrated, fake_stripe, deliver, django_capture_on_commit_callbacks
):
    checkout = integrated("en")
    fail_renewal(checkout, fake_stripe, deliver, django_capture_on_commit_callbacks)
    first = checkout.subscription.grace_until
    fail_renewal(checkout, fake_stripe, deliver, django_capture_on_commit_callbacks)
    assert checkout.subscription.grace_until == first
    assert Alert.objects.filter(kind=Alert.Kind.PAYMENT_FAILED).count() == 1
    # Stripe retried: the owner hears about each failed attempt.
    assert len(mail.outbox) == 1


def test_a_paid_retry_ends_the_grace_period(
    integrated, fake_stripe, deliver, django_capture_on_commit_callbacks
):
    checkout = integrated("en")
    fail_renewal(checkout, fake_stripe, deliver, django_capture_on_commit_callbacks)
    for event in fake_stripe.renewal_paid(checkout.stripe_subscription_id):
        assert deliver(event).status_code == 200
    subscription = checkout.subscription
    assert subscription.status == "active" and subscription.grace_until is None
    assert subscription.entitled
