"""The city's device subscriptions grow with every integrated site: the administrators' list is
read a page at a time, and each viewing records the page it showed."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from billing.models import DevicePlan, Subscription
from portal.department.services import DEVICE_SUBSCRIPTIONS_PAGE_SIZE
from portal.registry.models import AuditEntry
from tenants.models import Department

pytestmark = pytest.mark.django_db


def test_the_subscriptions_are_listed_a_page_at_a_time(admin):
    plan = DevicePlan.objects.create(
        slug="pages-hub",
        name="Hub",
        cameras_supported=4,
        storage_gb=500,
        device_price=35_000,
        yearly_price=15_000,
        description_en="A hub.",
        description_es="Un concentrador.",
    )
    concord = Department.objects.get(schema_name="concord")
    count = DEVICE_SUBSCRIPTIONS_PAGE_SIZE + 3
    Subscription.objects.bulk_create(
        Subscription(
            department=concord,
            site_id=1000 + number,
            participant_id=1,
            site_address=f"{number:03d} Device Ave",
            plan=plan,
            status=Subscription.Status.ACTIVE,
            yearly_amount=15_000,
            currency="usd",
        )
        for number in range(count)
    )
    first = admin.client.get("/department/device-subscriptions/").content.decode()
    second = admin.client.get("/department/device-subscriptions/", {"page": "2"}).content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "000 Device Ave" in first and "000 Device Ave" not in second
    assert f"{count - 1:03d} Device Ave" in second
    listed = {n for n in range(count) if f"{n:03d} Device Ave" in first + second}
    assert listed == set(range(count))
    with schema_context("concord"):
        reasons = list(
            AuditEntry.objects.filter(action="subscriptions_view")
            .order_by("pk")
            .values_list("reason", flat=True)
        )
    assert reasons == [
        f"Device subscriptions of {DEVICE_SUBSCRIPTIONS_PAGE_SIZE} sites with addresses",
        "Device subscriptions of 3 sites with addresses",
    ]
