"""The address search as residents and staff reach it, through the tenant middleware: each city
asks its own provider about its own streets, only signed-in participants (portal) and staff
(console) may ask, questions are limited per person, and an administrator chooses the
department's provider on the settings page."""

from __future__ import annotations

import pytest

from tenants.models import Program
from tests.geocoding.loopback import loopback_geocoder

pytestmark = pytest.mark.django_db


def provider_set(schema_name: str, geocoder: str) -> None:
    Program.objects.filter(department__schema_name=schema_name).update(geocoder=geocoder)


@pytest.fixture
def street_lists() -> None:
    """Concord and Little Rock search their local street lists."""
    provider_set("concord", "gazetteer")
    provider_set("littlerock", "gazetteer")


def test_each_city_suggests_its_own_streets(street_lists, make_resident):
    alice = make_resident("concord")
    bob = make_resident("littlerock", email="bob@example.org")
    concord = alice.client.get("/geocode/", {"q": "150 Union St S"})
    assert concord.status_code == 200
    [place] = concord.json()["places"]
    assert place["label"] == "150 Union St S, Concord, NC 28025"
    assert abs(place["latitude"] - 35.407) < 0.01
    assert bob.client.get("/geocode/", {"q": "150 Union St S"}).status_code == 404
    little_rock = bob.client.get("/geocode/", {"q": "300 Main St"}).json()["places"]
    assert little_rock[0]["label"] == "300 Main St, Little Rock, AR 72201"


def test_a_city_without_address_search_offers_none(street_lists, make_resident):
    provider_set("carrollton", "none")
    carol = make_resident("carrollton", email="carol@example.org")
    assert carol.client.get("/geocode/", {"q": "100 Maple St"}).status_code == 404
    assert "data-address-search" not in carol.client.get("/register/").content.decode()
    alice = make_resident("concord")
    assert "data-address-search" in alice.client.get("/register/").content.decode()


def test_the_address_at_a_clicked_point_is_named(street_lists, make_resident):
    alice = make_resident("concord")
    found = alice.client.get("/geocode/", {"q": "150 Union St S"}).json()["places"][0]
    answer = alice.client.get(
        "/geocode/reverse/", {"lat": found["latitude"], "lon": found["longitude"]}
    )
    assert answer.status_code == 200
    assert answer.json()["place"]["label"] == "150 Union St S, Concord, NC 28025"
    nowhere = alice.client.get("/geocode/reverse/", {"lat": "35.5", "lon": "-80.4"})
    assert nowhere.status_code == 404
    assert nowhere.json() == {"error": "No address found at this point; type the address."}


@pytest.mark.parametrize(
    "lat, lon", [("", ""), ("north", "-80.5"), ("95", "-80.5"), ("nan", "nan"), ("35.4", "inf")]
)
def test_a_point_that_is_no_point_is_refused(street_lists, make_resident, lat, lon):
    alice = make_resident("concord")
    answer = alice.client.get("/geocode/reverse/", {"lat": lat, "lon": lon})
    assert answer.status_code == 400
    assert answer.json() == {"error": "Give the latitude and longitude of a point on the map."}


def test_the_census_geocoder_says_it_cannot_name_a_point(settings, make_resident):
    provider_set("concord", "census")
    alice = make_resident("concord")
    with loopback_geocoder() as url:
        settings.GEOCODER_CENSUS_URL = url
        answer = alice.client.get("/geocode/reverse/", {"lat": "35.4", "lon": "-80.58"})
        found = alice.client.get("/geocode/", {"q": "77 Union St S"})
    assert answer.status_code == 501
    assert "type it" in answer.json()["error"]
    assert found.json()["places"][0]["label"] == "77 UNION ST S, CONCORD, NC, 28025"


def test_short_questions_are_refused(street_lists, make_resident):
    alice = make_resident("concord")
    answer = alice.client.get("/geocode/", {"q": " Un "})
    assert answer.status_code == 400
    assert answer.json() == {"error": "Type at least 3 characters of the address."}


def test_questions_are_limited_per_person(street_lists, make_resident, settings):
    settings.GEOCODER_REQUESTS_PER_MINUTE = 3
    alice = make_resident("concord")
    bob = make_resident("concord", email="bob@example.org")
    statuses = [alice.client.get("/geocode/", {"q": "Union St"}).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert (
        "Too many address searches" in alice.client.get("/geocode/", {"q": "Kerr"}).json()["error"]
    )
    assert bob.client.get("/geocode/", {"q": "Union St"}).status_code == 200


def test_answers_are_in_the_visitors_language(settings, make_resident):
    settings.GEOCODER_URL = "http://127.0.0.1:9"  # nothing listens: unavailable
    provider_set("concord", "nominatim")
    alice = make_resident("concord", language="es")
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    answer = alice.client.get("/geocode/", {"q": "77 Union St S"})
    assert answer.status_code == 503
    assert answer.json()["error"].startswith("La búsqueda de direcciones no está disponible")


def test_only_participants_and_staff_may_ask(
    street_lists, concord_client, make_resident, make_staff
):
    assert concord_client.get("/geocode/", {"q": "Union St"}).status_code == 302
    assert concord_client.get("/department/geocode/", {"q": "Union St"}).status_code == 302
    alice = make_resident("concord")
    assert alice.client.get("/department/geocode/", {"q": "Union St"}).status_code == 403
    analyst = make_staff("concord", "analyst")
    answer = analyst.client.get("/department/geocode/", {"q": "150 Union St S"})
    assert answer.status_code == 200
    assert answer.json()["places"][0]["label"] == "150 Union St S, Concord, NC 28025"
    reverse = analyst.client.get(
        "/department/geocode/reverse/",
        {
            "lat": answer.json()["places"][0]["latitude"],
            "lon": answer.json()["places"][0]["longitude"],
        },
    )
    assert reverse.json()["place"]["label"] == "150 Union St S, Concord, NC 28025"


def test_staff_of_one_city_search_their_own_city(street_lists, make_staff):
    officer = make_staff("littlerock", "investigator")
    assert officer.client.get("/department/geocode/", {"q": "150 Union St S"}).status_code == 404
    assert officer.client.get("/department/geocode/", {"q": "300 Main St"}).status_code == 200


def test_the_administrator_chooses_the_address_search(make_staff):
    admin = make_staff("concord", "administrator")
    page = admin.client.get("/department/settings/").content.decode()
    assert "Address search" in page and 'value="census"' in page
    response = admin.client.post("/department/settings/geocoder/", {"geocoder": "census"})
    assert response.status_code == 302
    assert Program.objects.get(department__schema_name="concord").geocoder == "census"
    refused = admin.client.post(
        "/department/settings/geocoder/", {"geocoder": "google"}, follow=True
    )
    assert "Choose one of the address searches listed." in refused.content.decode()
    assert Program.objects.get(department__schema_name="concord").geocoder == "census"
    investigator = make_staff("concord", "investigator")
    forbidden = investigator.client.post("/department/settings/geocoder/", {"geocoder": "none"})
    assert forbidden.status_code == 403
    assert Program.objects.get(department__schema_name="concord").geocoder == "census"


def test_the_registry_map_offers_a_search_box_and_popups(
    street_lists, make_staff, make_resident, site_data
):
    alice = make_resident("concord")
    assert alice.client.post("/register/", site_data()).status_code == 302
    investigator = make_staff("concord", "investigator")
    page = investigator.client.get("/department/map/").content.decode()
    assert 'id="map-search-input"' in page and "data-reverse-url=" in page
    data = investigator.client.get(
        "/department/map/data.json", {"bbox": "35.40,-80.59,35.42,-80.57", "zoom": "17"}
    ).json()
    [site] = data["sites"]
    assert site["address"] == "77 Union St S, Concord, NC 28025"
    assert site["summary"] == "Home · 1 camera · Registered"
