"""The local street list (the offline demo's geocoder): house numbers interpolated along their
street segment, street words abbreviated as people type them, each city's streets only near
that city, and the address of a clicked point read back from the nearest segment."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from portal.registry.geocoding import Gazetteer, distance_m, street_list_read
from tenants.demo import DEMO_CITIES

CONCORD = (35.4088, -80.5795)
LITTLE_ROCK = (34.7465, -92.2896)


@pytest.fixture
def gazetteer() -> Gazetteer:
    return Gazetteer(settings.GEOCODER_GAZETTEER_DIR)


def test_a_house_number_is_placed_along_its_segment(gazetteer):
    [place] = gazetteer.search("150 Union St S", CONCORD, 5)
    assert place.label == "150 Union St S, Concord, NC 28025"
    streets = street_list_read(Path(settings.GEOCODER_GAZETTEER_DIR) / "concord.json")
    [segment] = [s for s in streets.segments if s.street == "Union St S" and s.holds(150)]
    # Halfway between 100 and 199 is about halfway along the block.
    share = distance_m(segment.start, (place.latitude, place.longitude)) / distance_m(
        segment.start, segment.end
    )
    assert 0.45 < share < 0.56


def test_street_words_are_read_the_way_people_type_them(gazetteer):
    typed = gazetteer.search("150 union street south, Concord NC", CONCORD, 5)
    assert [place.label for place in typed] == ["150 Union St S, Concord, NC 28025"]


def test_the_start_of_a_street_name_suggests_it(gazetteer):
    labels = [place.label for place in gazetteer.search("Cabarr", CONCORD, 5)]
    assert labels and all("Cabarrus Ave" in label for label in labels)


def test_a_number_beyond_the_street_finds_nothing(gazetteer):
    assert gazetteer.search("99999 Union St S", CONCORD, 5) == []
    assert gazetteer.search("1 Imaginary Ln", CONCORD, 5) == []


def test_each_city_finds_its_own_streets_only(gazetteer):
    assert gazetteer.search("Kavanaugh Blvd", CONCORD, 5) == []
    [found] = gazetteer.search("2400 Kavanaugh Blvd", LITTLE_ROCK, 5)
    assert found.label.endswith("Little Rock, AR 72207")


def test_a_point_on_a_street_has_its_address(gazetteer):
    [place] = gazetteer.search("150 Union St S", CONCORD, 5)
    back = gazetteer.reverse(place.latitude, place.longitude)
    assert back is not None
    assert back.label == "150 Union St S, Concord, NC 28025"


def test_a_point_far_from_every_street_has_none(gazetteer):
    # A field 3 km north-east of any street in the list, and the middle of the Atlantic.
    assert gazetteer.reverse(35.50, -80.40) is None
    assert gazetteer.reverse(30.0, -50.0) is None


@pytest.mark.parametrize("city", DEMO_CITIES, ids=lambda city: city.subdomain)
def test_every_demo_city_has_a_street_list_around_its_center(gazetteer, city):
    streets = street_list_read(Path(settings.GEOCODER_GAZETTEER_DIR) / f"{city.subdomain}.json")
    assert streets.city == city.city and streets.state == city.state
    assert len(streets.segments) >= 50
    for segment in streets.segments:
        assert segment.first <= segment.last
        assert distance_m(city.center, segment.start) <= city.service_radius_m
    nearest = min(distance_m(city.center, segment.start) for segment in streets.segments)
    assert nearest < 500
