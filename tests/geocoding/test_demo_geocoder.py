"""The demo works offline: `manage.py demo` reads each demo city's street list and sets the
city to search it (portal.registry.geocoding.demo_gazetteer_use, a demo seeder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from portal.registry import geocoding
from tenants.demo import DEMO_CITIES, DEMO_SEEDERS
from tenants.models import Department

pytestmark = pytest.mark.django_db


def test_the_demo_command_seeds_the_street_lists():
    assert geocoding.demo_gazetteer_use in DEMO_SEEDERS


@pytest.mark.parametrize("city", [city.subdomain for city in DEMO_CITIES])
def test_each_demo_city_searches_its_street_list(city):
    department = Department.objects.select_related("program").get(schema_name=city)
    department.program.geocoder = geocoding.NOMINATIM
    department.program.save(update_fields=["geocoder"])
    [line] = geocoding.demo_gazetteer_use(department)
    assert line.startswith("Address search: the local street list (")
    program = Department.objects.get(schema_name=city).program
    assert program.geocoder == geocoding.GAZETTEER
    # The city's first street answers, without a network.
    streets = geocoding.street_list_read(
        Path(django_settings.GEOCODER_GAZETTEER_DIR) / f"{city}.json"
    )
    first = streets.segments[0]
    [place, *_] = geocoding.search(program, f"{first.first + 1} {first.street}")
    assert (
        place.label
        == f"{first.first + 1} {first.street}, {streets.city}, {streets.state} {first.zip}"
    )
    # Seeding again changes nothing.
    assert geocoding.demo_gazetteer_use(department) == [line]


def test_a_city_without_a_street_list_keeps_its_provider(settings, tmp_path):
    settings.GEOCODER_GAZETTEER_DIR = str(tmp_path)
    department = Department.objects.select_related("program").get(schema_name="concord")
    assert geocoding.demo_gazetteer_use(department) == []
    assert Department.objects.get(schema_name="concord").program.geocoder == geocoding.NOMINATIM
