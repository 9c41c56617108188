"""An event naming a department, subscription or site that no longer exists here is recorded as
orphaned, acknowledged with 200 (Stripe must not retry it forever) and raised as an alert for
the billing console; nothing is done in any city."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from billing.fake_stripe import example
from billing.models import Alert, Fulfilment, Invoice, WebhookEvent
from portal.registry.models import Participant, Site
from portal.registry.services import participant_opt_out

pytestmark = pytest.mark.django_db


def orphaned(response, event) -> WebhookEvent:
    assert response.status_code == 200
    assert response.content == b"orphaned"
    record = WebhookEvent.objects.get(stripe_event_id=event["id"])
    assert record.outcome == WebhookEvent.Outcome.ORPHANED
    alert = Alert.objects.get(stripe_event_id=event["id"])
    assert alert.kind == Alert.Kind.ORPHANED_EVENT
    assert alert.resolved_at is None
    return record


def test_an_event_for_a_customer_in_no_department_is_orphaned(fake_stripe, deliver):
    invoice = example("invoice", id="in_nobody", customer="cus_nobody", status="paid")
    event = fake_stripe.event("invoice.paid", invoice)
    record = orphaned(deliver(event), event)
    assert record.department is None
    assert "cus_nobody" in record.detail
    assert not Invoice.objects.exists()
    # Delivered again: still one record and one alert.
    assert deliver(event).status_code == 200
    assert Alert.objects.count() == 1


def test_metadata_naming_a_department_that_does_not_exist_is_orphaned(
    paid_checkout, fake_stripe, deliver
):
    checkout = paid_checkout("concord")
    checkout.complete()
    fake_stripe.objects[checkout.stripe_subscription_id]["metadata"]["department"] = "atlantis"
    event = fake_stripe.event(
        "customer.subscription.updated", fake_stripe.objects[checkout.stripe_subscription_id]
    )
    record = orphaned(deliver(event), event)
    assert "atlantis" in record.detail
    subscription = checkout.subscription
    assert subscription.status == "checkout" and subscription.stripe_subscription_id is None


def test_a_payment_for_a_site_deleted_by_its_owner_orders_nothing(
    paid_checkout, deliver, django_capture_on_commit_callbacks, fake_stripe
):
    checkout = paid_checkout("concord")
    events = checkout.complete()
    with schema_context("concord"), django_capture_on_commit_callbacks(execute=True):
        participant_opt_out(
            participant=Participant.objects.get(pk=checkout.participant_id), close_account=False
        )
        assert not Site.objects.filter(pk=checkout.site_id).exists()
    # The Checkout was paid before its webhooks came: opting out cancelled that subscription too.
    stripe_subscription_id = events["customer.subscription.created"]["data"]["object"]["id"]
    assert fake_stripe.objects[stripe_subscription_id]["status"] == "canceled"

    orphaned(deliver(events["checkout.session.completed"]), events["checkout.session.completed"])
    record = orphaned(deliver(events["invoice.paid"]), events["invoice.paid"])
    assert record.department.schema_name == "concord"
    assert f"Site {checkout.site_id}" in record.detail
    subscription = checkout.subscription
    assert not subscription.entitled
    assert not Fulfilment.objects.exists()
    # The money is recorded, so that billing staff can refund it from the console.
    assert Invoice.objects.get(subscription=subscription).status == "paid"
