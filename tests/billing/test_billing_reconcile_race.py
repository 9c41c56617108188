"""Two reconciliations at once in each of two departments (threads with their own connections,
committed data, Stripe slow enough that they overlap): a renewal that failed while webhooks were
lost is applied once per subscription: one status change, one alert, one email, one record."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connections
from django_tenants.utils import schema_context

from billing.gateway import gateway
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
from billing.reconcile import department_reconcile
from tenants.models import Department
from tests.billing.conftest import PaidCheckout, paid_checkout_make
from tests.billing.test_webhooks_concurrent import deliver
from tests.conftest import assert_test_database

SCHEMAS = ("concord", "carrollton")
DOMAIN = "reconcile-race.example.org"


@pytest.fixture
def renewals_failed_unseen(
    django_db_setup, fake_stripe, webhook_secret, django_db_blocker
) -> Iterator[dict[str, PaidCheckout]]:
    """In each city a subscription linked and live, whose renewal then failed at Stripe with
    no event delivered; all committed, removed afterwards (no entitlement: that would write to
    the city's append-only audit trail)."""
    with django_db_blocker.unblock():
        assert_test_database()
        checkouts: dict[str, PaidCheckout] = {}
        try:
            for schema_name in SCHEMAS:
                checkout = paid_checkout_make(
                    fake_stripe, schema_name, email=f"{schema_name}@{DOMAIN}"
                )
                checkouts[schema_name] = checkout
                assert deliver(checkout.complete()["invoice.finalized"]).status_code == 200
                fake_stripe.renewal_fails(checkout.stripe_subscription_id)
            yield checkouts
        finally:
            subscriptions = Subscription.objects.filter(
                pk__in=[checkout.subscription_pk for checkout in checkouts.values()]
            )
            Alert.objects.filter(subscription__in=subscriptions).delete()
            WebhookEvent.objects.filter(department__schema_name__in=SCHEMAS).delete()
            SubscriptionEvent.objects.filter(subscription__in=subscriptions).delete()
            Invoice.objects.filter(subscription__in=subscriptions).delete()
            subscriptions.delete()
            Customer.objects.filter(email__endswith=DOMAIN).delete()
            PlanOffer.objects.filter(plan__slug="hub-webhooks").delete()
            DevicePlan.objects.filter(slug="hub-webhooks", subscriptions__isnull=True).delete()
            for schema_name in SCHEMAS:
                with schema_context(schema_name):
                    get_user_model().objects.filter(email__endswith=DOMAIN).delete()
            connections.close_all()


def test_two_reconciliations_at_once_apply_each_correction_once(
    renewals_failed_unseen: dict[str, PaidCheckout], fake_stripe, django_db_blocker
) -> None:
    fake_stripe.latency = 0.2
    mail.outbox = []
    start = threading.Barrier(2 * len(SCHEMAS))
    corrected: dict[str, list[str]] = {schema_name: [] for schema_name in SCHEMAS}
    errors: list[BaseException] = []

    def reconcile(schema_name: str) -> None:
        try:
            department = Department.objects.get(schema_name=schema_name)
            start.wait(10)
            result = department_reconcile(department=department, client=gateway())
            corrected[schema_name] += result.corrected
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        threads = [
            threading.Thread(target=reconcile, args=(schema_name,))
            for schema_name in SCHEMAS
            for _copy in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []
        for schema_name, checkout in renewals_failed_unseen.items():
            subscription = Subscription.objects.get(pk=checkout.subscription_pk)
            assert subscription.status == "past_due"
            assert subscription.grace_until is not None
            history = SubscriptionEvent.objects.filter(subscription=subscription)
            assert history.filter(kind="status:past_due").count() == 1
            assert history.filter(kind="payment_failed").count() == 1
            assert (
                Alert.objects.filter(
                    subscription=subscription, kind=Alert.Kind.PAYMENT_FAILED
                ).count()
                == 1
            )
            records = WebhookEvent.objects.filter(
                department__schema_name=schema_name, stripe_event_id__startswith="reconcile:"
            )
            assert records.count() == 2
            # Each correction applied by one of the two runs.
            assert sorted(corrected[schema_name]) == sorted(
                records.values_list("stripe_event_id", flat=True)
            )
    assert sorted(message.to[0] for message in mail.outbox) == [
        f"{schema_name}@{DOMAIN}" for schema_name in sorted(SCHEMAS)
    ]
