"""Billing actions in the vendor console are the vendor staff member's own actions: each one done
is in the platform audit log (with its department), beside billing's own history line; one
refused is not."""

from __future__ import annotations

import pytest

from console.models import PlatformAuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing(platform_client, vendor, sign_in):
    sign_in(platform_client, vendor)
    return platform_client


def billing_entries() -> list[PlatformAuditEntry]:
    return list(PlatformAuditEntry.objects.filter(action=PlatformAuditEntry.Action.BILLING_ACTION))


def test_a_cancellation_is_in_the_platform_audit_log(billing, console_subscription):
    made = console_subscription()
    response = billing.post(
        f"/console/billing/subscriptions/{made.subscription.pk}/cancel/",
        {"when": "period_end", "reason": "Asked by phone"},
    )
    assert response.status_code == 302
    (entry,) = billing_entries()
    assert entry.actor_email == "vendor@canvass.example.org"
    assert entry.department_schema == made.subscription.department.schema_name
    assert entry.detail == {"what": "cancel_period_end", "subscription": made.subscription.pk}
    assert "Billing action" in billing.get("/console/audit/").content.decode()


def test_a_refused_action_records_nothing(billing, console_subscription):
    made = console_subscription()
    response = billing.post(
        f"/console/billing/subscriptions/{made.subscription.pk}/cancel/",
        {"when": "period_end", "reason": ""},
    )
    assert response.status_code == 400
    assert billing_entries() == []


def test_a_complimentary_period_is_recorded_with_its_months(billing, console_subscription):
    made = console_subscription()
    response = billing.post(
        f"/console/billing/subscriptions/{made.subscription.pk}/complimentary/",
        {"months": "2", "reason": "Pilot household"},
    )
    assert response.status_code == 302
    (entry,) = billing_entries()
    assert entry.detail["what"] == "complimentary"
    assert entry.detail["months"] == 2


def test_a_new_plan_is_recorded(catalog_vendor_client):
    from billing.models import DevicePlan
    from tests.billing.test_catalog_console import PLAN

    response = catalog_vendor_client.post("/console/catalog/new/", PLAN)
    assert response.status_code == 302
    (entry,) = billing_entries()
    assert entry.detail == {"what": "plan_create", "plan": DevicePlan.objects.get().pk}
    assert entry.department is None
