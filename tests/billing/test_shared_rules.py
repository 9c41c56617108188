"""The rules every part of billing goes through (billing.services): integration follows money,
a subscription's state never moves backwards, an ended subscription stays ended, a paid invoice
stays paid; the effects land in the subscription's own city, even when another city has a site
with the same id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.fake_stripe import FakeStripe, example
from billing.models import DevicePlan, Fulfilment, Invoice, Subscription
from billing.services import (
    entitlement_end,
    entitlement_start,
    invoice_record,
    subscription_state_apply,
)
from portal.registry.models import AuditEntry, Site
from tenants.models import Department
from tests.conftest import Resident

pytestmark = pytest.mark.django_db


def site_in(schema_name: str, resident: Resident, site_id: int | None = None) -> Site:
    with schema_context(schema_name):
        fields = {
            "participant": resident.participant,
            "kind": "home",
            "address": f"100 Main St, {schema_name}",
            "latitude": 35.0,
            "longitude": -80.0,
            "contact_name": "Owner",
            "contact_method": "email",
            "terms_version": 1,
            "terms_accepted_at": timezone.now(),
        }
        if site_id is not None:
            fields["pk"] = site_id
        return Site.objects.create(**fields)


@pytest.fixture
def plan() -> DevicePlan:
    return DevicePlan.objects.create(
        slug="hub-test",
        name="Hub",
        cameras_supported=4,
        storage_gb=1000,
        device_price=35000,
        yearly_price=15000,
        description_en="A small hub.",
        description_es="Un concentrador pequeño.",
    )


def subscription_for(
    schema_name: str, site: Site, plan: DevicePlan, stripe_id: str = ""
) -> Subscription:
    return Subscription.objects.create_for_site(
        department=Department.objects.get(schema_name=schema_name),
        site=site,
        plan=plan,
        stripe_subscription_id=stripe_id or f"sub_{schema_name}_{site.pk}",
        status="active",
    )


def participation(schema_name: str, site: Site) -> str:
    with schema_context(schema_name):
        return Site.objects.get(pk=site.pk).participation


def stripe_subscription(subscription: Subscription, status: str) -> dict[str, object]:
    snapshot = example("subscription", id=subscription.stripe_subscription_id, status=status)
    snapshot["cancel_at_period_end"] = False
    return snapshot


def test_a_paid_invoice_integrates_the_site_orders_the_device_and_says_so_in_the_audit_trail(
    make_resident: Callable[..., Resident], plan: DevicePlan
) -> None:
    site = site_in("littlerock", make_resident("littlerock"))
    subscription = subscription_for("littlerock", site, plan)
    entitlement_start(subscription=subscription)
    entitlement_start(subscription=subscription)  # a replay changes nothing
    assert participation("littlerock", site) == Site.Participation.INTEGRATED
    assert Fulfilment.objects.filter(subscription=subscription).count() == 1
    with schema_context("littlerock"):
        actions = list(AuditEntry.objects.filter(site_id=site.pk).values_list("action", flat=True))
    assert actions == [AuditEntry.Action.INTEGRATION_START]


def test_an_ended_subscription_returns_the_site_to_registered_and_keeps_the_registration(
    make_resident: Callable[..., Resident], plan: DevicePlan
) -> None:
    site = site_in("littlerock", make_resident("littlerock"))
    subscription = subscription_for("littlerock", site, plan)
    entitlement_start(subscription=subscription)
    subscription_state_apply(
        subscription=subscription, stripe_subscription=stripe_subscription(subscription, "canceled")
    )
    subscription.refresh_from_db()
    assert not subscription.entitled
    assert participation("littlerock", site) == Site.Participation.REGISTERED
    with schema_context("littlerock"):
        assert Site.objects.filter(pk=site.pk).exists()
        assert AuditEntry.objects.filter(
            site_id=site.pk, action=AuditEntry.Action.INTEGRATION_END
        ).exists()


def test_an_older_state_never_overwrites_a_newer_one_and_ended_stays_ended(
    make_resident: Callable[..., Resident], plan: DevicePlan
) -> None:
    site = site_in("littlerock", make_resident("littlerock"))
    subscription = subscription_for("littlerock", site, plan)
    now = timezone.now()
    subscription_state_apply(
        subscription=subscription,
        stripe_subscription=stripe_subscription(subscription, "past_due"),
        as_of=now,
    )
    subscription_state_apply(
        subscription=subscription,
        stripe_subscription=stripe_subscription(subscription, "active"),
        as_of=now - timedelta(seconds=5),
    )
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
    subscription_state_apply(
        subscription=subscription, stripe_subscription=stripe_subscription(subscription, "canceled")
    )
    subscription_state_apply(
        subscription=subscription, stripe_subscription=stripe_subscription(subscription, "active")
    )
    subscription.refresh_from_db()
    assert subscription.status == "canceled"
    entitlement_start(subscription=subscription)
    assert participation("littlerock", site) == Site.Participation.REGISTERED


def test_the_same_site_id_in_two_cities_only_the_subscriptions_city_changes(
    make_resident: Callable[..., Resident], plan: DevicePlan
) -> None:
    littlerock_site = site_in("littlerock", make_resident("littlerock"))
    concord_site = site_in("concord", make_resident("concord"), site_id=littlerock_site.pk)
    assert concord_site.pk == littlerock_site.pk
    entitlement_start(subscription=subscription_for("littlerock", littlerock_site, plan))
    assert participation("littlerock", littlerock_site) == Site.Participation.INTEGRATED
    assert participation("concord", concord_site) == Site.Participation.REGISTERED
    with schema_context("concord"):
        assert not AuditEntry.objects.filter(action=AuditEntry.Action.INTEGRATION_START).exists()


def test_a_site_stays_integrated_while_another_subscription_still_pays_for_it(
    make_resident: Callable[..., Resident], plan: DevicePlan
) -> None:
    site = site_in("littlerock", make_resident("littlerock"))
    old = subscription_for("littlerock", site, plan)
    entitlement_start(subscription=old)
    old.status = "canceled"
    old.save()
    new = subscription_for("littlerock", site, plan, stripe_id="sub_second")
    entitlement_start(subscription=new)
    entitlement_end(subscription=old, reason="Replaced by a new plan.")
    assert participation("littlerock", site) == Site.Participation.INTEGRATED


def test_a_paid_invoice_is_never_reopened_by_a_late_event(
    make_resident: Callable[..., Resident], plan: DevicePlan
) -> None:
    fake = FakeStripe()
    department = Department.objects.get(schema_name="littlerock")
    paid = example("invoice", id="in_collide", status="paid", amount_paid=50000, amount_due=50000)
    invoice_record(stripe_invoice=paid, department=department)
    late = fake.event("invoice.finalized", example("invoice", id="in_collide", status="open"))
    invoice_record(stripe_invoice=late["data"]["object"], department=department)
    assert Invoice.objects.get(stripe_invoice_id="in_collide").status == "paid"
