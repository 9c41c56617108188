"""The vendor console's catalog: billing staff list, create, edit and sync plans; bad input gets
a clear answer (400) and writes nothing; without Stripe keys a sync says so plainly."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django_tenants.utils import schema_context

from billing.models import DevicePlan

pytestmark = pytest.mark.django_db

PLAN = {
    "slug": "hub-4",
    "name": "Hub 4",
    "cameras_supported": "4",
    "storage_gb": "1000",
    "device_price": "350",
    "yearly_price": "150.00",
    "currency": "usd",
    "description_en": "Links up to 4 cameras.",
    "description_es": "Conecta hasta 4 cámaras.",
    "active": "on",
}


def said(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def test_vendor_staff_without_the_billing_permission_are_refused(platform_client):
    from allauth.mfa.totp.internal.auth import TOTP

    with schema_context("public"):
        support = get_user_model().objects.create_user(
            username="support@canvass.example.org",
            email="support@canvass.example.org",
            is_staff=True,
        )
        TOTP.activate(support, "CANVASSDEMOCANVASSDEMO234567ABCD")
        platform_client.force_login(support)
    assert platform_client.get("/console/catalog/").status_code == 403
    assert platform_client.post("/console/catalog/new/", PLAN).status_code == 403
    assert not DevicePlan.objects.exists()


def test_anonymous_visitors_go_to_sign_in(platform_client):
    response = platform_client.get("/console/licenses/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_billing_staff_create_a_plan_in_dollars(catalog_vendor_client):
    response = catalog_vendor_client.post("/console/catalog/new/", PLAN)
    assert response.status_code == 302
    plan = DevicePlan.objects.get(slug="hub-4")
    assert (plan.device_price, plan.yearly_price) == (35_000, 15_000)
    page = catalog_vendor_client.get("/console/catalog/").content.decode()
    assert "Hub 4" in page and "$350.00" in page and "Not synced" in page


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"yearly_price": "0"}, "at least 0.50"),
        ({"yearly_price": "abc"}, "Enter a number"),
        ({"device_price": "-5"}, "greater than or equal to 0"),
        ({"currency": "US$"}, "three-letter code"),
        ({"slug": "Hub 4!"}, "Enter a valid"),
        ({"cameras_supported": "0"}, "greater than or equal to 1"),
    ],
)
def test_bad_plans_get_a_clear_error_and_400(catalog_vendor_client, changes, error):
    response = catalog_vendor_client.post("/console/catalog/new/", PLAN | changes)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not DevicePlan.objects.exists()


def test_a_plans_code_stays_when_edited(catalog_vendor_client):
    catalog_vendor_client.post("/console/catalog/new/", PLAN)
    plan = DevicePlan.objects.get()
    response = catalog_vendor_client.post(
        f"/console/catalog/{plan.pk}/", PLAN | {"slug": "other", "yearly_price": "175"}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.slug, plan.yearly_price) == ("hub-4", 17_500)


def test_sync_without_stripe_keys_says_payments_are_not_configured(catalog_vendor_client):
    catalog_vendor_client.post("/console/catalog/new/", PLAN)
    plan = DevicePlan.objects.get()
    response = catalog_vendor_client.post(f"/console/catalog/{plan.pk}/sync/")
    assert response.status_code == 302
    assert "Payments are not configured on this installation" in said(response)
    response = catalog_vendor_client.post("/console/catalog/sync/")
    assert "Payments are not configured on this installation" in said(response)
    plan.refresh_from_db()
    assert not plan.is_synced


def test_sync_from_the_console(catalog_vendor_client, fake_stripe):
    catalog_vendor_client.post("/console/catalog/new/", PLAN)
    plan = DevicePlan.objects.get()
    response = catalog_vendor_client.post(f"/console/catalog/{plan.pk}/sync/")
    assert "in step with Stripe" in said(response)
    plan.refresh_from_db()
    assert plan.is_synced
    response = catalog_vendor_client.post("/console/catalog/sync/")
    assert "1 of 1 plans are in step" in said(response)


def test_a_stripe_timeout_during_sync_is_explained_and_changes_nothing(
    catalog_vendor_client, fake_stripe
):
    catalog_vendor_client.post("/console/catalog/new/", PLAN)
    plan = DevicePlan.objects.get()
    fake_stripe.fail_next("timeout")
    response = catalog_vendor_client.post(f"/console/catalog/{plan.pk}/sync/")
    assert "did not answer" in said(response)
    assert "Nothing was changed here" in said(response)
    plan.refresh_from_db()
    assert plan.stripe_product_id == ""
