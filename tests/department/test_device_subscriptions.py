"""A department's administrators see their city's device subscriptions (site, plan, status,
renewal date, device state) and never a card or payment detail; other roles get 403, and another
city's subscriptions never show, even for the same site id."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from billing.models import Customer, Subscription
from portal.registry.models import AuditEntry
from tenants.models import Department

pytestmark = pytest.mark.django_db

PATH = "/department/device-subscriptions/"


def test_administrators_see_their_citys_subscriptions_without_payment_details(
    admin, console_subscription
):
    made = console_subscription("concord", email="payer@example.org")
    made.subscription.refresh_from_db()
    response = admin.client.get(PATH)
    assert response.status_code == 200
    page = response.content.decode()
    assert made.subscription.site_address in page
    assert made.subscription.plan.name in page
    assert "Active" in page and "Ordered" in page
    assert f"{made.subscription.current_period_end:%Y}" in page
    for secret in [
        made.subscription.stripe_subscription_id,
        made.subscription.customer.stripe_customer_id,
        made.invoice.stripe_invoice_id,
        made.invoice.payment_intent_id,
        "payer@example.org",
        "150.00",
        "500.00",
        "USD",
        "$",
    ]:
        assert secret not in page, secret


def test_the_page_is_in_spanish_for_spanish_readers(admin, console_subscription):
    console_subscription("concord")
    admin.client.cookies["django_language"] = "es"
    page = admin.client.get(PATH).content.decode()
    assert "Suscripciones de dispositivos" in page and "Pedido" in page


def test_viewing_the_addresses_is_recorded(admin, console_subscription):
    console_subscription("concord")
    with schema_context("concord"):
        before = AuditEntry.objects.filter(action="subscriptions_view").count()
    assert admin.client.get(PATH).status_code == 200
    with schema_context("concord"):
        entry = AuditEntry.objects.filter(action="subscriptions_view").latest("pk")
        assert AuditEntry.objects.filter(action="subscriptions_view").count() == before + 1
        assert entry.actor_email == admin.email


@pytest.mark.parametrize("role", ["investigator", "operator", "analyst"])
def test_other_roles_get_403(make_staff, console_subscription, role):
    console_subscription("concord")
    staff = make_staff("concord", role)
    assert staff.client.get(PATH).status_code == 403
    assert b"Device subscriptions" not in staff.client.get("/department/").content


def test_another_citys_subscription_for_the_same_site_id_never_shows(
    admin, make_staff, console_subscription
):
    """COLLISION: Little Rock has a subscription for a site with the same id as Concord's."""
    concord = console_subscription("concord", address="1 Concord Way, Concord, NC")
    littlerock = Department.objects.get(schema_name="littlerock")
    customer = Customer.objects.create(
        stripe_customer_id="cus_littlerock_collision", department=littlerock, participant_id=1
    )
    Subscription.objects.create(
        department=littlerock,
        site_id=concord.site_id,
        participant_id=1,
        site_address="9 Rock St, Little Rock, AR",
        plan=concord.subscription.plan,
        customer=customer,
        stripe_subscription_id="sub_littlerock_collision",
        status=Subscription.Status.ACTIVE,
        yearly_amount=15_000,
        currency="usd",
    )
    concord_page = admin.client.get(PATH).content.decode()
    assert "1 Concord Way" in concord_page
    assert "9 Rock St" not in concord_page
    rock_admin = make_staff("littlerock", "administrator")
    rock_page = rock_admin.client.get(PATH).content.decode()
    assert "9 Rock St" in rock_page
    assert "1 Concord Way" not in rock_page


def test_a_city_without_subscriptions_says_so(admin):
    response = admin.client.get(PATH)
    assert response.status_code == 200
    assert b"No device subscriptions in this city yet." in response.content
