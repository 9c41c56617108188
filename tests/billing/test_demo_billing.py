"""The demo's billing picture, made without Stripe: four tiers offered in Little Rock and
Carrollton (none in Concord), subscriptions in realistic states over eighteen months, integrated
sites only where a subscription is entitled (audited), a license per city; made once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from billing.demo import billing_seed
from billing.models import (
    Alert,
    DevicePlan,
    Fulfilment,
    Invoice,
    License,
    Subscription,
    SubscriptionEvent,
)
from billing.selectors import plans_offered
from portal.registry.demo import registry_seed
from portal.registry.models import AuditEntry, Site
from tenants.demo import DEMO_SEEDERS, VENDOR_EMAIL
from tenants.models import Department

pytestmark = pytest.mark.django_db


def seeded(schema_name: str) -> Department:
    department = Department.objects.select_related("program").get(schema_name=schema_name)
    with tenant_context(department):
        registry_seed(department)
        billing_seed(department)
    return department


def test_the_seeder_runs_after_the_registrys():
    assert DEMO_SEEDERS.index(registry_seed) < DEMO_SEEDERS.index(billing_seed)


def test_four_tiers_offered_in_little_rock_and_carrollton_none_in_concord():
    littlerock, carrollton, concord = seeded("littlerock"), seeded("carrollton"), seeded("concord")
    assert [plan.name for plan in plans_offered(littlerock)] == [
        "Basic",
        "Standard",
        "Pro",
        "Enterprise",
    ]
    assert [plan.name for plan in plans_offered(carrollton)] == ["Standard", "Basic", "Pro"]
    assert list(plans_offered(concord)) == []
    basic, enterprise = (
        DevicePlan.objects.get(name="Basic"),
        DevicePlan.objects.get(name="Enterprise"),
    )
    assert (basic.device_price, basic.yearly_price, basic.cameras_supported) == (35_000, 15_000, 4)
    assert (enterprise.device_price, enterprise.yearly_price, enterprise.video_search) == (
        720_000,
        230_000,
        True,
    )
    assert all(plan.description_es for plan in DevicePlan.objects.all())


def test_integrated_sites_are_exactly_the_entitled_subscriptions_and_audited():
    littlerock = seeded("littlerock")
    entitled = set(
        Subscription.objects.entitled()
        .filter(department=littlerock)
        .values_list("site_id", flat=True)
    )
    assert len(entitled) > 20
    with tenant_context(littlerock):
        integrated = set(
            Site.objects.filter(participation=Site.Participation.INTEGRATED).values_list(
                "pk", flat=True
            )
        )
        audited = set(
            AuditEntry.objects.filter(action=AuditEntry.Action.INTEGRATION_START).values_list(
                "site_id", flat=True
            )
        )
    assert integrated == entitled
    assert entitled <= audited


def test_subscriptions_in_realistic_states_with_a_history():
    littlerock = seeded("littlerock")
    subscriptions = Subscription.objects.filter(department=littlerock)
    statuses = set(subscriptions.values_list("status", flat=True))
    assert {"active", "past_due", "canceled"} <= statuses
    assert subscriptions.filter(status="past_due", grace_until__gt=timezone.now()).exists()
    assert subscriptions.filter(complimentary_until__gt=timezone.now()).exists()
    assert not subscriptions.filter(status="canceled", entitled=True).exists()
    states = set(
        Fulfilment.objects.filter(subscription__department=littlerock).values_list(
            "state", flat=True
        )
    )
    assert "online" in states and len(states) >= 3
    assert Invoice.objects.filter(department=littlerock, disputed=True).count() == 1
    assert Invoice.objects.filter(
        department=littlerock, status="open", payment_failed_at__isnull=False
    ).exists()
    assert Alert.objects.filter(department=littlerock, kind=Alert.Kind.DISPUTE).exists()
    months = subscriptions.annotate(month=TruncMonth("started_at")).values("month").distinct()
    assert months.count() >= 10
    oldest = subscriptions.order_by("started_at").first()
    assert oldest.started_at < timezone.now() - timedelta(days=365)
    assert SubscriptionEvent.objects.filter(subscription__department=littlerock).exists()
    # No hosted links in the demo (no Stripe): the pages show invoices without a link.
    assert not Invoice.objects.filter(department=littlerock).exclude(hosted_invoice_url="").exists()


def test_each_city_has_its_license():
    for schema_name in ("littlerock", "carrollton", "concord"):
        seeded(schema_name)
    status = dict(License.objects.values_list("department__schema_name", "status"))
    assert status == {"littlerock": "paid", "carrollton": "open", "concord": "overdue"}
    assert all(License.objects.values_list("po_number", flat=True))
    concord = Department.objects.get(schema_name="concord")
    assert Alert.objects.filter(department=concord, kind=Alert.Kind.LICENSE_OVERDUE).count() == 1
    assert concord.status == Department.Status.ACTIVE


def test_seeding_twice_adds_nothing():
    carrollton = seeded("carrollton")
    counts = (
        Subscription.objects.count(),
        Invoice.objects.count(),
        License.objects.count(),
        DevicePlan.objects.count(),
        Alert.objects.count(),
    )
    with tenant_context(carrollton):
        lines = billing_seed(carrollton)
    assert not any("subscriptions" in line for line in lines)
    assert counts == (
        Subscription.objects.count(),
        Invoice.objects.count(),
        License.objects.count(),
        DevicePlan.objects.count(),
        Alert.objects.count(),
    )


def test_the_demo_vendor_runs_billing():
    seeded("concord")
    with schema_context("public"):
        vendor = get_user_model().objects.get(email=VENDOR_EMAIL)
        assert vendor.user_permissions.filter(codename="run_billing").exists()
