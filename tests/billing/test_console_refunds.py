"""Refunds from the billing console: full, partial, above what is refundable (refused before
Stripe is asked), Stripe timing out or refusing (nothing recorded), and a form submitted twice
(one refund at Stripe)."""

from __future__ import annotations

import re

import pytest

from billing.models import Invoice, SubscriptionEvent

pytestmark = pytest.mark.django_db

TOKEN = "a-form-token-0123456789"


@pytest.fixture
def billing(platform_client, vendor, sign_in):
    sign_in(platform_client, vendor)
    return platform_client


def refund(client, made, *, amount="", reason="Device arrived broken", token=TOKEN):
    return client.post(
        f"/console/billing/invoices/{made.invoice.pk}/refund/",
        {"amount": amount, "reason": reason, "token": token},
    )


def refunds_at_stripe(made) -> list:
    return [obj for obj in made.fake.objects.values() if obj["object"] == "refund"]


def test_a_full_refund_refunds_what_was_paid_and_says_who_and_why(billing, console_subscription):
    made = console_subscription()
    response = refund(billing, made)
    assert response.status_code == 302
    made.refresh()
    assert made.invoice.amount_paid == 50_000
    assert made.invoice.amount_refunded == 50_000
    assert [r["amount"] for r in refunds_at_stripe(made)] == [50_000]
    line = made.subscription.events.get(kind="refund")
    assert (line.actor_email, line.reason, line.amount) == (
        "vendor@canvass.example.org",
        "Device arrived broken",
        50_000,
    )
    page = billing.get(f"/console/billing/subscriptions/{made.subscription.pk}/")
    assert b"Device arrived broken" in page.content and b"$500.00" in page.content


def test_a_partial_refund_leaves_the_rest_refundable(billing, console_subscription):
    made = console_subscription()
    assert refund(billing, made, amount="120.50").status_code == 302
    made.refresh()
    assert made.invoice.amount_refunded == 12_050
    assert made.invoice.refundable == 50_000 - 12_050
    assert refund(billing, made, amount="10", token="another-form-token-0123").status_code == 302
    made.refresh()
    assert made.invoice.amount_refunded == 13_050
    assert sorted(r["amount"] for r in refunds_at_stripe(made)) == [1_000, 12_050]


def test_a_refund_above_what_is_refundable_is_refused_before_stripe(billing, console_subscription):
    made = console_subscription()
    requests_before = len(made.fake.requests)
    response = refund(billing, made, amount="500.01")
    assert response.status_code == 400
    assert b"At most $500.00" in response.content
    assert len(made.fake.requests) == requests_before
    made.refresh()
    assert made.invoice.amount_refunded == 0
    assert not SubscriptionEvent.objects.filter(kind="refund").exists()


def test_a_refund_when_stripe_times_out_is_pending_and_the_same_form_applies_it_once(
    billing, console_subscription
):
    made = console_subscription()
    made.fake.fail_next("timeout")
    response = refund(billing, made)
    # Queued and retried with the same key (tests/faults/test_stripe_faults.py).
    assert response.status_code == 302
    page = billing.get(response["Location"]).content.decode()
    assert "Refund pending</strong> of $500.00" in page
    assert refunds_at_stripe(made) == []
    made.refresh()
    assert made.invoice.amount_refunded == 0
    assert not SubscriptionEvent.objects.filter(kind="refund").exists()
    # Trying again with the same form works, once.
    assert refund(billing, made).status_code == 302
    assert len(refunds_at_stripe(made)) == 1


def test_stripe_refusing_a_refund_records_nothing(billing, console_subscription):
    made = console_subscription()
    # Refunded at Stripe by someone else (the dashboard): our copy does not know yet.
    made.fake.objects[made.fake.objects[made.invoice.stripe_invoice_id]["_charge"]][
        "amount_refunded"
    ] = 50_000
    response = refund(billing, made, amount="100")
    assert response.status_code == 400
    assert b"Stripe refused" in response.content
    assert b"greater than unrefunded amount" in response.content
    made.refresh()
    assert made.invoice.amount_refunded == 0
    assert not SubscriptionEvent.objects.filter(kind="refund").exists()


def test_a_refund_form_submitted_twice_refunds_once(billing, console_subscription):
    made = console_subscription()
    assert refund(billing, made, amount="50").status_code == 302
    assert refund(billing, made, amount="50").status_code == 302
    assert [r["amount"] for r in refunds_at_stripe(made)] == [5_000]
    made.refresh()
    assert made.invoice.amount_refunded == 5_000
    assert made.subscription.events.filter(kind="refund").count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, b"Reason: This field is required."),
        ({"amount": "-5"}, b"Ensure this value is greater than or equal to 0.01"),
        ({"amount": "ten"}, b"Enter a number."),
        ({"token": "short"}, b"This form is out of date"),
    ],
)
def test_a_bad_refund_form_is_refused_with_a_clear_error(
    billing, console_subscription, data, message
):
    made = console_subscription()
    response = refund(billing, made, **data)
    assert response.status_code == 400
    assert message in response.content
    assert refunds_at_stripe(made) == []


def test_an_invoice_without_a_subscription_is_not_refunded_here(billing, console_subscription):
    made = console_subscription()
    Invoice.objects.filter(pk=made.invoice.pk).update(subscription=None)
    response = refund(billing, made)
    assert response.status_code == 404
    assert refunds_at_stripe(made) == []


def test_the_refund_form_of_the_page_posts_to_its_invoice(billing, console_subscription):
    made = console_subscription()
    page = billing.get(f"/console/billing/subscriptions/{made.subscription.pk}/").content.decode()
    assert f'action="/console/billing/invoices/{made.invoice.pk}/refund/"' in page
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token is not None
    assert refund(billing, made, token=token[1]).status_code == 302
