"""The directory's map data (/cities/map.json): the listed departments only, with public facts
(program name, city, state, portal link, programme centre) and nothing private; cached for a
minute, so a listing change reaches the map within it."""

from __future__ import annotations

import json

import pytest
import time_machine

from tenants.models import Department

pytestmark = pytest.mark.django_db
MAP = "/cities/map.json"


def cities(client) -> list[dict[str, object]]:
    response = client.get(MAP)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    return json.loads(response.content)


def test_the_map_holds_each_listed_city_with_public_facts_only(platform_client, make_city):
    make_city("hidden", city="Hiddenville", state="OH", display_name="Quiet", listed=False)
    make_city("paused", city="Pauseville", state="OH", display_name="Paused", status="suspended")
    make_city("newtown", city="Newtown", state="CT", display_name="New", status="provisioning")
    found = cities(platform_client)
    assert found == [
        {
            "name": "Eyes on the Rock",
            "city": "Little Rock",
            "state": "AR",
            "url": "http://littlerock.localhost:8000/",
            "lat": 34.7465,
            "lng": -92.2896,
        },
        {
            "name": "Carrollton Community Camera Partnership",
            "city": "Carrollton",
            "state": "GA",
            "url": "http://carrollton.localhost:8000/",
            "lat": 33.5801,
            "lng": -85.0766,
        },
        {
            "name": "Concord Community Camera Registry",
            "city": "Concord",
            "state": "NC",
            "url": "http://concord.localhost:8000/",
            "lat": 35.4088,
            "lng": -80.5795,
        },
    ]


def test_the_map_holds_nothing_private(platform_client):
    body = platform_client.get(MAP).content.decode()
    assert "@" not in body  # no administrator's, reply-to or any other address
    for private in ("schema", "Police Department", "example.org", "radius", "welcome", "terms"):
        assert private not in body, private


def test_a_listing_change_reaches_the_map_within_a_minute(platform_client):
    with time_machine.travel("2026-11-26 12:00:00Z", tick=False) as traveller:
        assert len(cities(platform_client)) == 3
        Department.objects.filter(schema_name="concord").update(listed=False)
        assert len(cities(platform_client)) == 3  # still the cached answer
        traveller.shift(61)
        assert [city["city"] for city in cities(platform_client)] == ["Little Rock", "Carrollton"]


def test_browsers_may_keep_the_map_for_a_minute(platform_client):
    response = platform_client.get(MAP)
    assert "public" in response["Cache-Control"]
    assert "max-age=60" in response["Cache-Control"]


def test_the_map_costs_no_query_while_cached(platform_client, django_assert_max_num_queries):
    cities(platform_client)
    with django_assert_max_num_queries(2):  # the platform host's address (tenant routing)
        cities(platform_client)


def test_only_reading_is_allowed(platform_client):
    assert platform_client.post(MAP).status_code == 405
    assert platform_client.post("/cities/").status_code == 405
