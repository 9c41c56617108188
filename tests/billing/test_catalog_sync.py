"""Device plans kept in step with Stripe through lookup keys: a second sync creates nothing, a
changed price makes a new Price (the lookup key moved to it) and archives the old one, and a
Stripe failure changes nothing here."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from billing.catalog import catalog_sync, catalog_sync_all, plan_create, plan_update
from billing.fake_stripe import FakeStripe
from billing.gateway import PaymentsNotConfigured, StripeRefused, StripeUnavailable
from billing.models import DevicePlan

pytestmark = pytest.mark.django_db


def hub(slug: str = "hub-4", **changes: object) -> DevicePlan:
    fields = {
        "name": "Hub 4",
        "cameras_supported": 4,
        "storage_gb": 1000,
        "video_search": False,
        "device_price": 35_000,
        "yearly_price": 15_000,
        "currency": "usd",
        "description_en": "Links up to 4 cameras.",
        "description_es": "Conecta hasta 4 cámaras.",
    }
    return plan_create(slug=slug, **(fields | changes))


def creations(fake: FakeStripe) -> int:
    return len(fake.calls("post", "/v1/products")) + len(fake.calls("post", "/v1/prices"))


def test_the_first_sync_makes_the_product_and_both_prices(fake_stripe):
    plan = catalog_sync(plan=hub())
    assert plan.stripe_product_id == "canvass_plan_hub-4"
    device = fake_stripe.objects[plan.stripe_device_price_id]
    yearly = fake_stripe.objects[plan.stripe_yearly_price_id]
    assert (device["unit_amount"], device["lookup_key"], device["type"]) == (
        35_000,
        "canvass_hub-4_device",
        "one_time",
    )
    assert (yearly["unit_amount"], yearly["lookup_key"], yearly["recurring"]["interval"]) == (
        15_000,
        "canvass_hub-4_yearly",
        "year",
    )
    product = fake_stripe.objects["canvass_plan_hub-4"]
    assert product["name"] == "Hub 4"
    assert product["metadata"]["cameras_supported"] == "4"
    assert plan.synced_at is not None


def test_a_second_sync_creates_nothing(fake_stripe):
    plan = catalog_sync(plan=hub())
    before = creations(fake_stripe)
    again = catalog_sync(plan=plan)
    assert creations(fake_stripe) == before
    assert (again.stripe_device_price_id, again.stripe_yearly_price_id) == (
        plan.stripe_device_price_id,
        plan.stripe_yearly_price_id,
    )


def test_a_sync_after_the_local_ids_were_lost_finds_the_same_objects(fake_stripe):
    plan = catalog_sync(plan=hub())
    DevicePlan.objects.filter(pk=plan.pk).update(
        stripe_product_id="", stripe_device_price_id="", stripe_yearly_price_id=""
    )
    before = creations(fake_stripe)
    again = catalog_sync(plan=DevicePlan.objects.get(pk=plan.pk))
    assert creations(fake_stripe) == before
    assert again.stripe_yearly_price_id == plan.stripe_yearly_price_id


def test_a_price_change_makes_a_new_price_and_archives_the_old(fake_stripe):
    plan = catalog_sync(plan=hub())
    old_yearly, old_device = plan.stripe_yearly_price_id, plan.stripe_device_price_id
    plan = catalog_sync(plan=plan_update(plan=plan, yearly_price=17_500))
    assert plan.stripe_yearly_price_id != old_yearly
    assert plan.stripe_device_price_id == old_device
    new = fake_stripe.objects[plan.stripe_yearly_price_id]
    old = fake_stripe.objects[old_yearly]
    assert (new["unit_amount"], new["active"], new["lookup_key"]) == (
        17_500,
        True,
        "canvass_hub-4_yearly",
    )
    assert (old["active"], old["lookup_key"]) == (False, None)
    created = fake_stripe.calls("post", "/v1/prices")
    assert any(call.get("transfer_lookup_key") == "true" for call in created)


def test_going_back_to_an_earlier_amount_makes_yet_another_price(fake_stripe):
    plan = catalog_sync(plan=hub())
    first = plan.stripe_yearly_price_id
    plan = catalog_sync(plan=plan_update(plan=plan, yearly_price=17_500))
    plan = catalog_sync(plan=plan_update(plan=plan, yearly_price=15_000))
    assert plan.stripe_yearly_price_id not in (first, "")
    assert fake_stripe.objects[plan.stripe_yearly_price_id]["active"]
    assert fake_stripe.objects[plan.stripe_yearly_price_id]["unit_amount"] == 15_000


def test_a_new_name_updates_the_product_without_new_prices(fake_stripe):
    plan = catalog_sync(plan=hub())
    prices = len(fake_stripe.calls("post", "/v1/prices"))
    catalog_sync(plan=plan_update(plan=plan, name="Hub 4 Plus"))
    assert fake_stripe.objects["canvass_plan_hub-4"]["name"] == "Hub 4 Plus"
    assert len(fake_stripe.calls("post", "/v1/prices")) == prices


def test_a_stripe_timeout_changes_nothing_here(fake_stripe):
    plan = hub()
    fake_stripe.fail_next("timeout")
    with pytest.raises(StripeUnavailable) as raised:
        catalog_sync(plan=plan)
    assert "try again" in str(raised.value.message)
    plan.refresh_from_db()
    assert (plan.stripe_product_id, plan.stripe_device_price_id, plan.synced_at) == ("", "", None)


def test_a_timeout_half_way_keeps_the_old_ids_and_the_next_sync_completes(fake_stripe):
    plan = catalog_sync(plan=hub())
    old = (plan.stripe_device_price_id, plan.stripe_yearly_price_id)
    plan = plan_update(plan=plan, device_price=40_000, yearly_price=16_000)
    # The product's retrieval, the price list and the new device price succeed; archiving the
    # old device price gets a server error.
    calls_before = len(fake_stripe.requests)
    original = fake_stripe.request

    def failing_after_three(*args, **kwargs):
        if len(fake_stripe.requests) - calls_before == 3:
            fake_stripe.fail_next("server")
        return original(*args, **kwargs)

    fake_stripe.request = failing_after_three
    with pytest.raises(StripeUnavailable):
        catalog_sync(plan=plan)
    plan.refresh_from_db()
    assert (plan.stripe_device_price_id, plan.stripe_yearly_price_id) == old
    fake_stripe.request = original
    plan = catalog_sync(plan=plan)
    assert fake_stripe.objects[plan.stripe_device_price_id]["unit_amount"] == 40_000
    assert fake_stripe.objects[plan.stripe_yearly_price_id]["unit_amount"] == 16_000
    assert not fake_stripe.objects[old[1]]["active"]


def test_a_refusal_is_reported_with_stripes_message(fake_stripe):
    plan = hub()
    fake_stripe.fail_next("declined")
    with pytest.raises(StripeRefused):
        catalog_sync(plan=plan)
    plan.refresh_from_db()
    assert plan.stripe_product_id == ""


def test_without_a_key_payments_are_not_configured(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(PaymentsNotConfigured):
        catalog_sync(plan=hub())


def test_sync_all_reports_each_plan(fake_stripe):
    hub()
    hub("hub-16", name="Hub 16", cameras_supported=16, yearly_price=60_000)
    results = catalog_sync_all()
    assert [result.error for result in results] == ["", ""]
    assert all(result.plan.is_synced for result in results)


def test_the_command_syncs_and_says_so(fake_stripe, capsys):
    hub()
    call_command("billing_catalog_sync")
    assert "1 plans in step with Stripe" in capsys.readouterr().out
    before = creations(fake_stripe)
    call_command("billing_catalog_sync")
    assert creations(fake_stripe) == before


def test_the_command_without_a_key_says_payments_are_not_configured(settings):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(CommandError, match="not configured"):
        call_command("billing_catalog_sync")


def test_a_plans_code_cannot_change():
    plan = hub()
    with pytest.raises(ValidationError) as raised:
        plan_update(plan=plan, slug="hub-5")
    assert "slug" in raised.value.message_dict
    assert DevicePlan.objects.get(pk=plan.pk).slug == "hub-4"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"yearly_price": 0}, "yearly_price"),
        ({"yearly_price": 49}, "yearly_price"),
        ({"device_price": 10}, "device_price"),
        ({"currency": "dollars"}, "currency"),
        ({"cameras_supported": 0}, "cameras_supported"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_plans_are_refused_by_field(changes, field):
    with pytest.raises(ValidationError) as raised:
        hub(**changes)
    assert field in raised.value.message_dict
    assert not DevicePlan.objects.exists()


def test_a_code_is_used_once():
    hub()
    with pytest.raises(ValidationError) as raised:
        hub()
    assert "slug" in raised.value.message_dict


def test_the_gateway_pays_and_refunds_a_test_card_on_the_fake(fake_stripe):
    # The same calls the test-mode check makes against Stripe (tests/billing/test_stripe_live.py).
    from billing.gateway import gateway

    intent = gateway().payment_intent_create(
        {"amount": 5_000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True},
        idempotency_key="pay-1",
    )
    assert intent["status"] == "succeeded"
    refund = gateway().refund_create(
        {"payment_intent": intent["id"], "amount": 1_500}, idempotency_key="refund-1"
    )
    assert refund["amount"] == 1_500
    with pytest.raises(StripeRefused):
        gateway().refund_create(
            {"payment_intent": intent["id"], "amount": 4_000}, idempotency_key="refund-2"
        )
