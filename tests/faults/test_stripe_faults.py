"""Issue 16, point 4: Stripe unavailable or slow. Stripe's network is the only thing faked (the
gateway's injected transport, billing.fake_stripe): it times out, answers 500 or 503, answers
late, or carries a request out and loses the answer on the way back. Everything else is real:
the portal's and the console's views, PostgreSQL, the retry job.

- Checkout: the owner is told to try again, in their language, and nothing is left behind
  that would block the retry; a slow answer within the SDK's timeout just works.
- Refunds and cancellations: queued as pending (a StripeRetry row), retried with backoff and
  the SAME idempotency key, applied once when Stripe answers again.
The webhook half (the database down when Stripe delivers) is test_stripe_faults_webhooks.py."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
import stripe
from django.utils import timezone
from django_tenants.utils import schema_context

from billing import gateway as gateway_module
from billing.gateway import Gateway
from billing.models import Alert, Customer, Invoice, StripeRetry, Subscription, SubscriptionEvent
from billing.retries import KEY_LIFETIME, backoff, retries_run
from billing.tasks import billing_stripe_retries
from portal.registry.models import Site
from tenants.models import Department
from tests.billing import conftest as billing_fixtures
from tests.billing.payments import checkout_paid
from tests.billing.test_checkout import LITTLE_ROCK, site_of

pytestmark = pytest.mark.django_db

# Billing's fixtures (tests/billing/conftest.py): the fake Stripe, synced plans, a paid
# subscription made through the console's path.
fake_stripe = billing_fixtures.fake_stripe
checkout_plans = billing_fixtures.checkout_plans
console_subscription = billing_fixtures.console_subscription

FAILURES = ["timeout", "server", "unavailable"]
TOKEN = "a-faults-form-token-0123456789"


@pytest.fixture
def owner(make_resident, site_data):
    """An owner in Little Rock (which sells devices) with one registered site."""
    alice = make_resident("littlerock")
    assert alice.client.post("/register/", site_data(**LITTLE_ROCK)).status_code == 302
    return alice


@pytest.fixture
def billing(platform_client, vendor, sign_in):
    sign_in(platform_client, vendor)
    return platform_client


def buy(owner, plan):
    site = site_of(owner)
    return owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": plan.pk})


def refunds_at_stripe(fake) -> list[dict]:
    return [obj for obj in fake.objects.values() if obj["object"] == "refund"]


def concord() -> Department:
    return Department.objects.get(schema_name="concord")


def later(retry: StripeRetry) -> timezone.datetime:
    """The moment the retry is due (its backoff over)."""
    retry.refresh_from_db()
    return retry.next_attempt_at + timedelta(seconds=1)


# -- checkout ---------------------------------------------------------------------------------


def test_the_real_client_has_a_timeout_and_network_retries_within_gunicorns(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_canvass_faults"
    client = Gateway().client
    requestor = client._requestor
    http_client = requestor._client
    assert http_client._timeout == gateway_module.TIMEOUT_SECONDS
    assert requestor._options.max_network_retries == gateway_module.MAX_NETWORK_RETRIES >= 1
    # Two tries and the SDK's longest backoff stay inside gunicorn's 30 s worker timeout.
    tries = 1 + gateway_module.MAX_NETWORK_RETRIES
    worst = tries * gateway_module.TIMEOUT_SECONDS + stripe._http_client.HTTPClient.MAX_DELAY
    assert worst < 30


@pytest.mark.parametrize("how", [*FAILURES, "lost"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_checkout_when_stripe_fails_says_try_again_in_the_owners_language_and_leaves_nothing(
    owner, checkout_plans, fake_stripe, how, language
):
    if language == "es":
        owner.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    fake_stripe.fail_next(how, on="/v1/checkout/sessions")
    response = buy(owner, checkout_plans[0])
    assert response.status_code == 503
    page = response.content.decode()
    assert {
        "en": "The payment service did not answer. Nothing was charged; please try again.",
        "es": "El servicio de pagos no respondió. No se cobró nada; inténtelo de nuevo.",
    }[language] in page
    assert "Traceback" not in page
    # Nothing half-made: no subscription (the one-open-per-site rule would block a retry), no
    # customer mapping, no device, no history.
    assert not Subscription.objects.exists()
    assert not Customer.objects.exists()
    assert not SubscriptionEvent.objects.exists()
    with schema_context("littlerock"):
        assert Site.objects.get().participation == Site.Participation.REGISTERED
    # The owner tries again and pays: one subscription, one device.
    again = buy(owner, checkout_plans[0])
    assert again.status_code == 303
    subscription = Subscription.objects.get()
    assert subscription.checkout_url == again["Location"]
    paid = checkout_paid(fake_stripe, subscription)
    assert paid.entitled
    assert Subscription.objects.count() == 1


def test_checkout_when_stripe_answers_late_but_within_the_timeout_works(
    owner, checkout_plans, fake_stripe
):
    fake_stripe.latency = 0.5  # every answer, the customer's and the session's
    response = buy(owner, checkout_plans[0])
    assert response.status_code == 303
    assert Subscription.objects.get().checkout_url == response["Location"]


def test_checkout_when_stripe_answers_late_and_then_times_out_leaves_nothing(
    owner, checkout_plans, fake_stripe
):
    fake_stripe.latency = 0.3
    fake_stripe.fail_next("timeout", on="/v1/checkout/sessions")
    assert buy(owner, checkout_plans[0]).status_code == 503
    assert not Subscription.objects.exists()
    assert buy(owner, checkout_plans[0]).status_code == 303


# -- refunds ----------------------------------------------------------------------------------


def refund_form(client, made, *, amount="", token=TOKEN):
    return client.post(
        f"/console/billing/invoices/{made.invoice.pk}/refund/",
        {"amount": amount, "reason": "Device arrived broken", "token": token},
    )


@pytest.mark.parametrize("how", FAILURES)
def test_a_refund_stripe_does_not_answer_is_pending_then_retried_with_one_key_and_applied_once(
    billing, console_subscription, how
):
    made = console_subscription()
    fake = made.fake
    fake.fail_next(how, on="/v1/refunds")
    response = refund_form(billing, made, amount="120.50")
    assert response.status_code == 302
    page = billing.get(response["Location"]).content.decode()
    # Staff see "pending", not an error.
    assert "Stripe did not answer, so the refund is pending" in page
    assert "Refund pending</strong> of $120.50" in page
    retry = StripeRetry.objects.get()
    assert (retry.kind, retry.state, retry.amount) == ("refund", "pending", 12_050)
    assert retry.attempts == 1
    made.refresh()
    assert made.invoice.amount_refunded == 0
    assert refunds_at_stripe(fake) == []
    # Not due yet: the retry job leaves it alone.
    run = retries_run(department=concord(), now=timezone.now())
    assert (run.applied, run.still_pending) == (0, 0)
    # Stripe is still down at the next two turns: a 500, then a timeout.
    fake.fail_next("server", on="/v1/refunds")
    assert retries_run(department=concord(), now=later(retry)).still_pending == 1
    fake.fail_next("timeout", on="/v1/refunds")
    assert retries_run(department=concord(), now=later(retry)).still_pending == 1
    retry.refresh_from_db()
    assert retry.attempts == 3
    assert retry.state == "pending"
    # Stripe answers again: applied, once.
    assert retries_run(department=concord(), now=later(retry)).applied == 1
    keys = fake.keys_sent("post", "/v1/refunds")
    assert len(keys) == 4 and len(set(keys)) == 1 and keys[0] == retry.idempotency_key
    assert [r["amount"] for r in refunds_at_stripe(fake)] == [12_050]
    made.refresh()
    assert made.invoice.amount_refunded == 12_050
    assert made.subscription.events.filter(kind="refund").count() == 1
    assert made.subscription.events.filter(kind="refund_pending").count() == 1
    retry.refresh_from_db()
    assert retry.state == "done" and retry.stripe_object_id == refunds_at_stripe(fake)[0]["id"]
    # Later runs find nothing to do; the page no longer says pending.
    assert str(retries_run(department=concord(), now=later(retry))) == (
        "0 applied, 0 still pending, 0 failed"
    )
    assert len(fake.keys_sent("post", "/v1/refunds")) == 4
    assert "Refund pending" not in billing.get(response["Location"]).content.decode()


def test_a_refund_stripe_made_but_whose_answer_was_lost_is_applied_once(
    billing, console_subscription
):
    made = console_subscription()
    made.fake.fail_next("lost", on="/v1/refunds")
    assert refund_form(billing, made).status_code == 302
    # Stripe did refund; Canvass does not know yet.
    assert len(refunds_at_stripe(made.fake)) == 1
    made.refresh()
    assert made.invoice.amount_refunded == 0
    retry = StripeRetry.objects.get()
    assert retries_run(department=concord(), now=later(retry)).applied == 1
    # The same key: Stripe replays its answer, no second refund.
    assert len(refunds_at_stripe(made.fake)) == 1
    assert len(set(made.fake.keys_sent("post", "/v1/refunds"))) == 1
    made.refresh()
    assert made.invoice.amount_refunded == 50_000
    assert made.subscription.events.filter(kind="refund").count() == 1


def test_the_same_form_sent_again_while_pending_asks_stripe_again_with_the_same_key(
    billing, console_subscription
):
    made = console_subscription()
    made.fake.fail_next("timeout", on="/v1/refunds")
    assert refund_form(billing, made, amount="100").status_code == 302
    # Staff (or a double click) send the same form: the same amount and key, applied once.
    assert refund_form(billing, made, amount="100").status_code == 302
    assert refund_form(billing, made, amount="100").status_code == 302
    assert [r["amount"] for r in refunds_at_stripe(made.fake)] == [10_000]
    assert len(set(made.fake.keys_sent("post", "/v1/refunds"))) == 1
    assert StripeRetry.objects.get().state == "done"
    made.refresh()
    assert made.invoice.amount_refunded == 10_000
    # The retry job has nothing left to do.
    assert retries_run(department=concord(), now=timezone.now() + timedelta(hours=1)).applied == 0


def test_a_pending_refund_counts_against_what_can_still_be_refunded(billing, console_subscription):
    made = console_subscription()
    made.fake.fail_next("timeout", on="/v1/refunds")
    assert refund_form(billing, made, amount="400").status_code == 302
    response = refund_form(billing, made, amount="200", token="another-form-token-0123456789")
    assert response.status_code == 400
    assert "pending $400.00" in response.content.decode()


def test_the_backoff_doubles_and_the_retry_job_runs_per_department(billing, console_subscription):
    made = console_subscription()
    made.fake.fail_next("timeout", on="/v1/refunds")
    refund_form(billing, made)
    retry = StripeRetry.objects.get()
    assert [backoff(n).total_seconds() for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]
    first = retry.next_attempt_at
    made.fake.fail_next("server", on="/v1/refunds")
    retries_run(department=concord(), now=later(retry))
    retry.refresh_from_db()
    assert retry.next_attempt_at - first >= timedelta(seconds=60)
    # Another department's run does not touch it.
    other = Department.objects.get(schema_name="littlerock")
    assert retries_run(department=other, now=later(retry)).applied == 0
    # The scheduled job, as Celery beat queues it for Concord.
    StripeRetry.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    result = billing_stripe_retries.apply(headers={"_schema_name": "concord"})
    assert result.get() == "1 applied, 0 still pending, 0 failed"
    assert len(refunds_at_stripe(made.fake)) == 1


def test_a_retry_pending_longer_than_stripe_keeps_its_key_is_not_sent_blindly(
    billing, console_subscription
):
    made = console_subscription()
    made.fake.fail_next("timeout", on="/v1/refunds")
    refund_form(billing, made)
    retry = StripeRetry.objects.get()
    attempts = len(made.fake.keys_sent("post", "/v1/refunds"))
    retries_run(department=concord(), now=retry.created_at + KEY_LIFETIME + timedelta(minutes=1))
    retry.refresh_from_db()
    assert retry.state == "failed"
    assert len(made.fake.keys_sent("post", "/v1/refunds")) == attempts
    alert = Alert.objects.get(kind=Alert.Kind.STRIPE_FAILURE)
    assert retry.idempotency_key in alert.message
    assert made.subscription.events.filter(kind="refund_failed").count() == 1


# -- cancellations ----------------------------------------------------------------------------


def cancel_now(client, made):
    return client.post(
        f"/console/billing/subscriptions/{made.subscription.pk}/cancel/",
        {"when": "now", "reason": "Owner moved away"},
    )


@pytest.mark.parametrize("how", FAILURES)
def test_a_cancellation_stripe_does_not_answer_is_pending_then_applied_once(
    billing, console_subscription, how
):
    made = console_subscription()
    stripe_id = made.subscription.stripe_subscription_id
    made.fake.fail_next(how, on="/v1/subscriptions")
    response = cancel_now(billing, made)
    assert response.status_code == 302
    page = billing.get(response["Location"]).content.decode()
    assert "Stripe did not answer, so the cancellation is pending" in page
    assert "Cancellation pending" in page
    made.refresh()
    assert made.subscription.status == Subscription.Status.ACTIVE
    retry = StripeRetry.objects.get()
    made.fake.fail_next("unavailable", on="/v1/subscriptions")
    assert retries_run(department=concord(), now=later(retry)).still_pending == 1
    assert retries_run(department=concord(), now=later(retry)).applied == 1
    made.refresh()
    assert made.fake.objects[stripe_id]["status"] == "canceled"
    assert made.subscription.status == Subscription.Status.CANCELED
    assert not made.subscription.entitled
    assert made.participation == "registered"
    assert made.subscription.events.filter(kind="cancelled_now").count() == 1
    keys = made.fake.keys_sent("delete", f"/v1/subscriptions/{stripe_id}")
    assert len(keys) == 3 and set(keys) == {f"canvass-cancel-{stripe_id}"}
    assert retries_run(department=concord(), now=later(retry)).applied == 0


def test_a_cancellation_stripe_made_but_whose_answer_was_lost_is_applied_once(
    billing, console_subscription
):
    made = console_subscription()
    stripe_id = made.subscription.stripe_subscription_id
    made.fake.fail_next("lost", on="/v1/subscriptions")
    assert cancel_now(billing, made).status_code == 302
    assert made.fake.objects[stripe_id]["status"] == "canceled"
    made.refresh()
    assert made.subscription.status == Subscription.Status.ACTIVE
    retry = StripeRetry.objects.get()
    # Stripe refuses to cancel twice; the retry reads Stripe's state and applies it once.
    assert retries_run(department=concord(), now=later(retry)).applied == 1
    made.refresh()
    assert made.subscription.status == Subscription.Status.CANCELED
    assert made.subscription.events.filter(kind="cancelled_now").count() == 1
    assert not Alert.objects.exists()


def test_an_opt_out_stripe_does_not_answer_is_cancelled_at_stripe_once_it_answers(
    owner, checkout_plans, fake_stripe
):
    site = site_of(owner)
    assert buy(owner, checkout_plans[1]).status_code == 303
    paid = checkout_paid(fake_stripe, Subscription.objects.get(site_id=site.pk))
    fake_stripe.fail_next("timeout", on="/v1/subscriptions")
    assert owner.client.post("/my/leave/", {"confirm": "on"}).status_code == 200
    assert fake_stripe.objects[paid.stripe_subscription_id]["status"] == "active"
    retry = StripeRetry.objects.get(subscription=paid)
    littlerock = Department.objects.get(schema_name="littlerock")
    assert retries_run(department=littlerock, now=later(retry)).applied == 1
    assert fake_stripe.objects[paid.stripe_subscription_id]["status"] == "canceled"
    paid.refresh_from_db()
    assert paid.status == Subscription.Status.CANCELED
    assert not paid.entitled
    assert Invoice.objects.filter(subscription=paid).count() == 1


# -- catching up after an outage, minute by minute --------------------------------------------


def figure(name: str, value: object) -> None:
    """A measured figure for bench/faults_stripe.py (written only when it asks for them)."""
    path = os.environ.get("CANVASS_FAULT_FIGURES")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"name": name, "value": value}) + "\n")


@pytest.mark.parametrize("outage_seconds", [60, 300, 1800, 4 * 3600])
def test_after_a_stripe_outage_the_minute_job_applies_the_refund_once(
    billing, console_subscription, outage_seconds
):
    """Stripe down for `outage_seconds`: the job (every minute, as canvass.schedule runs it)
    tries at its backoff's pace and applies the refund at the first turn after Stripe is back,
    within one backoff step and a minute, once. The clock is the job's `now`, stepped a minute
    at a time (the retries' own timestamps follow it), so the figures do not depend on load."""
    made = console_subscription()
    made.fake.fail_next("unavailable", on="/v1/refunds")
    assert refund_form(billing, made, amount="250").status_code == 302
    retry = StripeRetry.objects.get()
    started = retry.created_at
    back = started + timedelta(seconds=outage_seconds)
    minute = 0
    while StripeRetry.objects.get().state == "pending":
        minute += 1
        now = started + timedelta(minutes=minute)
        if now < back:
            made.fake.failures[:] = [("unavailable", "/v1/refunds")] * 20
        else:
            made.fake.failures.clear()
        retries_run(department=concord(), now=now)
        assert minute < 24 * 60, "not applied within a day"
    retry.refresh_from_db()
    applied_after_return = (started + timedelta(minutes=minute) - back).total_seconds()
    keys = made.fake.keys_sent("post", "/v1/refunds")
    refunds = refunds_at_stripe(made.fake)
    made.refresh()
    assert retry.state == "done"
    assert len(set(keys)) == 1
    assert [r["amount"] for r in refunds] == [25_000]
    assert made.invoice.amount_refunded == 25_000
    assert made.subscription.events.filter(kind="refund").count() == 1
    assert applied_after_return <= backoff(retry.attempts - 1).total_seconds() + 60
    figure(
        f"refund_outage_{outage_seconds}s",
        {
            "attempts": retry.attempts,
            "applied_after_stripe_returned_s": applied_after_return,
            "refunds_at_stripe": len(refunds),
            "refunds_recorded": made.subscription.events.filter(kind="refund").count(),
            "distinct_keys": len(set(keys)),
        },
    )
