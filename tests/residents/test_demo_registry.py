"""The demo registry: a few hundred plausible sites per city, within the city, made once."""

from __future__ import annotations

import phonenumbers
import pytest
from django_tenants.utils import tenant_context

from portal.registry.demo import registry_seed
from portal.registry.models import Participant, Site
from tenants.demo import DEMO_SEEDERS
from tenants.models import Department

pytestmark = pytest.mark.django_db


def seeded(schema_name: str) -> Department:
    department = Department.objects.select_related("program").get(schema_name=schema_name)
    with tenant_context(department):
        registry_seed(department)
    return department


def test_the_seeder_is_registered_for_the_demo():
    assert registry_seed in DEMO_SEEDERS


@pytest.mark.parametrize(("schema_name", "expected"), [("concord", 212), ("littlerock", 322)])
def test_each_city_gets_a_few_hundred_sites_within_its_area(schema_name, expected):
    department = seeded(schema_name)
    with tenant_context(department):
        sites = list(Site.objects.all())
        assert len(sites) == expected
        assert all(department.program.covers(site.latitude, site.longitude) for site in sites)
        assert all(site.cameras.exists() for site in sites[:20])
        assert all(
            phonenumbers.is_valid_number(phonenumbers.parse(site.contact_phone)) for site in sites
        )
        assert Participant.objects.filter(status=Participant.Status.LAPSED).exists()
        assert Site.objects.searchable().count() < len(sites)


def test_the_registry_seeder_integrates_no_site_by_itself():
    """Integration follows money: only a paid device subscription makes a demo site integrated,
    never the registry's seeder, even in a city that sells devices."""
    littlerock = seeded("littlerock")
    with tenant_context(littlerock):
        assert Site.objects.count() > 0
        assert not Site.objects.filter(participation=Site.Participation.INTEGRATED).exists()


def test_seeding_twice_adds_nothing():
    department = seeded("carrollton")
    with tenant_context(department):
        before = Site.objects.count()
        lines = registry_seed(department)
        assert Site.objects.count() == before
    assert lines == [
        "resident: maria@residents.example.org / demo-carrollton-resident (Spanish)",
        "resident: sam@residents.example.org / demo-carrollton-resident (English)",
    ]


def test_the_demo_residents_can_sign_in(concord_client):
    seeded("concord")
    concord_client.post(
        "/accounts/login/",
        {"login": "maria@residents.example.org", "password": "demo-concord-resident"},
    )
    assert "_auth_user_id" in concord_client.session
    page = concord_client.get("/my/").content.decode()
    assert "118 Elm St, Concord, NC" in page


def test_the_demo_registry_has_grown_over_two_years():
    department = seeded("concord")
    with tenant_context(department):
        from django.db.models.functions import TruncMonth

        months = Site.objects.annotate(month=TruncMonth("created_at")).values("month").distinct()
        assert months.count() >= 20
