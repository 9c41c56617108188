"""Cancellations, complimentary periods, the device fulfilment steps and alerts, from the billing
console: each calls Stripe (where Stripe is concerned), records who did it and why, and shows in
the subscription's history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Alert, Fulfilment, Subscription, SubscriptionEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing(platform_client, vendor, sign_in):
    sign_in(platform_client, vendor)
    return platform_client


def page_of(client, made) -> str:
    return client.get(f"/console/billing/subscriptions/{made.subscription.pk}/").content.decode()


def test_cancel_now_ends_it_at_stripe_and_the_site_returns_to_registered(
    billing, console_subscription
):
    made = console_subscription()
    assert made.participation == "integrated"
    response = billing.post(
        f"/console/billing/subscriptions/{made.subscription.pk}/cancel/",
        {"when": "now", "reason": "Owner moved away"},
    )
    assert response.status_code == 302
    made.refresh()
    assert made.fake.objects[made.subscription.stripe_subscription_id]["status"] == "canceled"
    assert made.subscription.status == Subscription.Status.CANCELED
    assert not made.subscription.entitled
    assert made.participation == "registered"
    line = made.subscription.events.get(kind="cancelled_now")
    assert (line.actor_email, line.reason) == ("vendor@canvass.example.org", "Owner moved away")
    assert "Owner moved away" in page_of(billing, made)


def test_the_site_address_shown_is_the_registered_one(billing, console_subscription):
    made = console_subscription(address="12 Church St N, Concord, NC 28025")
    assert "12 Church St N, Concord, NC 28025" in page_of(billing, made)


def test_cancel_at_period_end_keeps_the_integration_until_then(billing, console_subscription):
    made = console_subscription()
    response = billing.post(
        f"/console/billing/subscriptions/{made.subscription.pk}/cancel/",
        {"when": "period_end", "reason": "Asked by phone"},
    )
    assert response.status_code == 302
    made.refresh()
    assert made.fake.objects[made.subscription.stripe_subscription_id]["cancel_at_period_end"]
    assert made.subscription.cancel_at_period_end
    assert made.subscription.status == Subscription.Status.ACTIVE
    assert made.participation == "integrated"
    assert made.subscription.events.get(kind="cancel_at_period_end").reason == "Asked by phone"
    again = billing.post(
        f"/console/billing/subscriptions/{made.subscription.pk}/cancel/",
        {"when": "period_end", "reason": "Twice"},
    )
    assert again.status_code == 400
    assert b"already set to end" in again.content


def test_a_cancellation_needs_a_reason_and_a_live_subscription(billing, console_subscription):
    made = console_subscription()
    path = f"/console/billing/subscriptions/{made.subscription.pk}/cancel/"
    response = billing.post(path, {"when": "now", "reason": "   "})
    assert response.status_code == 400
    assert b"Reason: This field is required." in response.content
    assert billing.post(path, {"when": "now", "reason": "Moved"}).status_code == 302
    response = billing.post(path, {"when": "now", "reason": "Again"})
    assert response.status_code == 400
    assert b"already ended" in response.content
    assert made.subscription.events.filter(kind="cancelled_now").count() == 1


def test_a_cancellation_stripe_does_not_answer_is_pending_and_changes_nothing_yet(
    billing, console_subscription
):
    made = console_subscription()
    made.fake.fail_next("server")
    response = billing.post(
        f"/console/billing/subscriptions/{made.subscription.pk}/cancel/",
        {"when": "now", "reason": "Moved"},
    )
    # Queued and retried with one idempotency key (tests/faults/test_stripe_faults.py).
    assert response.status_code == 302
    assert "Cancellation pending" in page_of(billing, made)
    made.refresh()
    assert made.subscription.status == Subscription.Status.ACTIVE
    assert made.participation == "integrated"
    assert not made.subscription.events.filter(kind="cancelled_now").exists()
    assert made.subscription.events.filter(kind="cancel_pending").exists()


def test_a_complimentary_period_is_a_trial_at_stripe_and_out_of_revenue(
    billing, console_subscription
):
    made = console_subscription()
    response = billing.post(
        f"/console/billing/subscriptions/{made.subscription.pk}/complimentary/",
        {"months": "3", "reason": "Installer was late"},
    )
    assert response.status_code == 302
    made.refresh()
    at_stripe = made.fake.objects[made.subscription.stripe_subscription_id]
    assert at_stripe["status"] == "trialing"
    until = made.subscription.complimentary_until
    assert until is not None
    assert int(until.timestamp()) == at_stripe["trial_end"]
    assert timedelta(days=88) < until - timezone.now() < timedelta(days=93)
    assert made.subscription.status == Subscription.Status.TRIALING
    assert not Subscription.objects.revenue_bearing().filter(pk=made.subscription.pk).exists()
    line = made.subscription.events.get(kind="complimentary")
    assert line.reason == "Installer was late" and line.actor_email == "vendor@canvass.example.org"
    assert made.participation == "integrated"


@pytest.mark.parametrize("months", ["0", "25", "-1", "x"])
def test_a_complimentary_period_out_of_range_is_refused(billing, console_subscription, months):
    made = console_subscription()
    response = billing.post(
        f"/console/billing/subscriptions/{made.subscription.pk}/complimentary/",
        {"months": months, "reason": "Why not"},
    )
    assert response.status_code == 400
    assert b"Months:" in response.content
    assert (
        made.fake.calls("post", f"/v1/subscriptions/{made.subscription.stripe_subscription_id}")
        == []
    )


def advance(client, fulfilment, state, **data):
    return client.post(
        f"/console/billing/fulfilment/{fulfilment.pk}/", {"state": state, "reason": "", **data}
    )


def test_the_device_goes_shipped_installed_online_in_order(billing, console_subscription):
    made = console_subscription()
    fulfilment = Fulfilment.objects.get(subscription=made.subscription)
    queue = billing.get("/console/billing/fulfilment/")
    assert made.subscription.site_address in queue.content.decode()
    assert b"Mark shipped" in queue.content
    shipped = advance(billing, fulfilment, "shipped", carrier="UPS", tracking_number="1Z999")
    assert shipped.status_code == 302
    assert advance(billing, fulfilment, "installed").status_code == 302
    assert advance(billing, fulfilment, "online").status_code == 302
    fulfilment.refresh_from_db()
    assert fulfilment.state == "online"
    assert (fulfilment.carrier, fulfilment.tracking_number) == ("UPS", "1Z999")
    assert fulfilment.shipped_at <= fulfilment.installed_at <= fulfilment.online_at
    kinds = list(
        made.subscription.events.filter(kind__startswith="fulfilment:")
        .order_by("pk")
        .values_list("kind", flat=True)
    )
    assert kinds == ["fulfilment:shipped", "fulfilment:installed", "fulfilment:online"]
    queue_after = billing.get("/console/billing/fulfilment/").content.decode()
    assert f"/subscriptions/{made.subscription.pk}/" not in queue_after
    assert "UPS 1Z999" in page_of(billing, made)


def test_a_step_out_of_order_is_refused(billing, console_subscription):
    made = console_subscription()
    fulfilment = Fulfilment.objects.get(subscription=made.subscription)
    response = advance(billing, fulfilment, "installed")
    assert response.status_code == 400
    assert b"the next step is shipped, not installed" in response.content
    no_tracking = advance(billing, fulfilment, "shipped", carrier="UPS")
    assert no_tracking.status_code == 400
    assert b"carrier and the tracking number" in no_tracking.content
    backwards = advance(billing, fulfilment, "ordered")
    assert backwards.status_code == 400
    fulfilment.refresh_from_db()
    assert fulfilment.state == "ordered"
    assert not SubscriptionEvent.objects.filter(kind__startswith="fulfilment:").exists()


def test_an_alert_is_resolved_with_who_and_how(billing, console_subscription):
    made = console_subscription()
    alert = Alert.objects.create(
        kind=Alert.Kind.DISPUTE,
        department=made.subscription.department,
        subscription=made.subscription,
        message="Payment disputed: fraudulent",
    )
    assert b"Payment disputed: fraudulent" in billing.get("/console/billing/problems/").content
    path = f"/console/billing/alerts/{alert.pk}/resolve/"
    assert billing.post(path, {"reason": ""}).status_code == 400
    assert billing.post(path, {"reason": "Evidence sent to Stripe"}).status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_by == "vendor@canvass.example.org" and alert.resolved_at
    assert made.subscription.events.get(kind="alert_resolved").reason == "Evidence sent to Stripe"
    assert b"Payment disputed: fraudulent" not in billing.get("/console/billing/problems/").content
    assert billing.post(path, {"reason": "Again"}).status_code == 400


def test_failed_payments_and_disputes_are_listed(billing, console_subscription):
    from billing.gateway import gateway
    from billing.services import invoice_record

    made = console_subscription()
    events = made.fake.renewal_fails(made.subscription.stripe_subscription_id)
    failed = invoice_record(
        stripe_invoice=gateway().invoice_retrieve(events[0]["data"]["object"]["id"]),
        department=made.subscription.department,
    )
    failed.payment_failed_at = timezone.now()
    failed.save()
    made.invoice.disputed = True
    made.invoice.save()
    page = billing.get("/console/billing/problems/").content.decode()
    failed_part, disputes_part = page.split("<h2>Disputes</h2>")
    assert str(failed) in failed_part and str(made.invoice) not in failed_part
    assert str(made.invoice) in disputes_part.split("<h2>Open alerts</h2>")[0]


def test_search_and_filters_find_subscriptions_across_cities(billing, console_subscription):
    concord = console_subscription("concord")
    littlerock = console_subscription("littlerock", email="lr@example.org")
    both = billing.get("/console/billing/").content.decode()
    assert "Concord Police Department" in both and "Little Rock Police Department" in both
    city = littlerock.subscription.department_id
    only = billing.get(f"/console/billing/?city={city}").content.decode()
    assert f"/subscriptions/{littlerock.subscription.pk}/" in only
    assert f"/subscriptions/{concord.subscription.pk}/" not in only
    by_id = billing.get(f"/console/billing/?q={concord.subscription.stripe_subscription_id}")
    assert f"/subscriptions/{concord.subscription.pk}/" in by_id.content.decode()
    assert f"/subscriptions/{littlerock.subscription.pk}/" not in by_id.content.decode()
    by_email = billing.get("/console/billing/?q=LR@example.org").content.decode()
    assert f"/subscriptions/{littlerock.subscription.pk}/" in by_email
    assert f"/subscriptions/{concord.subscription.pk}/" not in by_email
    none = billing.get("/console/billing/?status=canceled").content.decode()
    assert "No subscriptions match." in none
    bad = billing.get("/console/billing/?status=nonsense&city=x")
    assert bad.status_code == 400
    assert b"Select a valid choice" in bad.content
