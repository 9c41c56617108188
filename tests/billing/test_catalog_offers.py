"""Each city chooses the device plans it offers and their order; two cities' offers never mix."""

from __future__ import annotations

import pytest

from billing.catalog import offers_set, plan_create
from billing.models import DevicePlan, PlanOffer
from billing.selectors import plans_offered
from tenants.models import Department

pytestmark = pytest.mark.django_db


def plan(slug: str, yearly: int) -> DevicePlan:
    return plan_create(
        slug=slug,
        name=slug.title(),
        cameras_supported=4,
        storage_gb=1000,
        video_search=False,
        device_price=35_000,
        yearly_price=yearly,
        currency="usd",
        description_en="A device.",
        description_es="Un dispositivo.",
    )


@pytest.fixture
def catalog() -> list[DevicePlan]:
    return [plan("basic", 15_000), plan("standard", 40_000), plan("pro", 90_000)]


def city(name: str) -> Department:
    return Department.objects.get(schema_name=name)


def test_administrators_choose_plans_and_their_order(make_staff, catalog):
    basic, standard, pro = catalog
    admin = make_staff("littlerock", "administrator")
    response = admin.client.post(
        "/department/plans/",
        {
            f"offer_{pro.slug}": "on",
            f"position_{pro.slug}": "1",
            f"offer_{basic.slug}": "on",
            f"position_{basic.slug}": "2",
            f"position_{standard.slug}": "3",
        },
    )
    assert response.status_code == 302
    assert list(plans_offered(city("littlerock"))) == [pro, basic]
    page = admin.client.get("/department/plans/").content.decode()
    assert page.index("Pro") < page.index("Standard")
    assert 'name="offer_pro" id="id_offer_pro" checked' in page


def test_two_plans_in_the_same_position_are_refused(make_staff, catalog):
    basic, standard, _pro = catalog
    admin = make_staff("littlerock", "administrator")
    offers_set(department=city("littlerock"), plans=[standard])
    response = admin.client.post(
        "/department/plans/",
        {
            f"offer_{basic.slug}": "on",
            f"position_{basic.slug}": "1",
            f"offer_{standard.slug}": "on",
            f"position_{standard.slug}": "1",
        },
    )
    assert response.status_code == 400
    assert "cannot both be number 1" in response.content.decode()
    assert list(plans_offered(city("littlerock"))) == [standard]


def test_a_position_that_is_not_a_number_is_refused_in_spanish(make_staff, catalog):
    basic = catalog[0]
    admin = make_staff("littlerock", "administrator")
    admin.client.cookies["django_language"] = "es"
    response = admin.client.post(
        "/department/plans/", {f"offer_{basic.slug}": "on", f"position_{basic.slug}": "first"}
    )
    assert response.status_code == 400
    assert "número entero" in response.content.decode()
    assert not PlanOffer.objects.exists()


def test_only_administrators_choose(make_staff, catalog):
    investigator = make_staff("littlerock", "investigator")
    assert investigator.client.get("/department/plans/").status_code == 403
    response = investigator.client.post("/department/plans/", {f"offer_{catalog[0].pk}": "on"})
    assert response.status_code == 403
    assert not PlanOffer.objects.exists()


def test_two_cities_offers_never_mix(make_staff, catalog):
    basic, standard, pro = catalog
    offers_set(department=city("littlerock"), plans=[pro, basic])
    offers_set(department=city("carrollton"), plans=[basic, standard])
    carrollton_admin = make_staff("carrollton", "administrator")
    # Carrollton withdraws everything; Little Rock's offers stay as they were.
    assert carrollton_admin.client.post("/department/plans/", {}).status_code == 302
    assert list(plans_offered(city("carrollton"))) == []
    assert list(plans_offered(city("littlerock"))) == [pro, basic]
    littlerock_admin = make_staff("littlerock", "administrator")
    page = littlerock_admin.client.get("/department/plans/").content.decode()
    assert 'id="id_offer_pro" checked' in page
    assert 'id="id_offer_standard" checked' not in page


def test_a_plan_taken_off_sale_is_no_longer_offered(catalog):
    basic, standard, _pro = catalog
    offers_set(department=city("carrollton"), plans=[basic, standard])
    DevicePlan.objects.filter(pk=basic.pk).update(active=False)
    assert list(plans_offered(city("carrollton"))) == [standard]
