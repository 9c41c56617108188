"""The geocoder providers against a real HTTP server on loopback shaped like Nominatim and the
Census Bureau's geocoder: places read from their documented JSON, a slow server given up on in
time, garbage and error pages turned into GeocoderUnavailable, nothing found as no places, and
answers kept briefly so that typing does not ask twice."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache

from portal.registry import geocoding
from portal.registry.geocoding import Census, GeocoderUnavailable, Nominatim, Place
from tenants.models import Program
from tests.geocoding.loopback import (
    CENSUS_GARBAGE,
    GARBAGE,
    LoopbackGeocoder,
    loopback_geocoder,
)

CONCORD = (35.4088, -80.5795)


def census(url: str, timeout: float = 2) -> Census:
    return Census(url, benchmark="Public_AR_Current", timeout=timeout, locality="Concord, NC")


def test_nominatim_finds_places_near_the_city():
    with loopback_geocoder() as url:
        places = Nominatim(url, timeout=2).search("77 Union St S", CONCORD, 5)
        asked = LoopbackGeocoder.asked[0]
    assert places[0] == Place(
        "77, Union Street South, Concord, Cabarrus County, NC, 28025, USA", 35.4081, -80.5806
    )
    assert len(places) == 2
    assert "/search?" in asked and "format=jsonv2" in asked and "viewbox=-81.0795" in asked


def test_nominatim_names_the_address_at_a_point():
    with loopback_geocoder() as url:
        place = Nominatim(url, timeout=2).reverse(35.4081, -80.5806)
    assert place == Place("77, Union Street South, Concord, NC, 28025, USA", 35.40811, -80.58061)


def test_nominatim_finds_nothing_where_there_is_nothing():
    with loopback_geocoder() as url:
        provider = Nominatim(url, timeout=2)
        assert provider.search("nowhere at all", CONCORD, 5) == []
        assert provider.reverse(10.0, 10.0) is None


def test_census_reads_its_matches_and_adds_the_city_to_a_bare_street_address():
    with loopback_geocoder() as url:
        places = census(url).search("77 Union St S", CONCORD, 5)
        asked = LoopbackGeocoder.asked[0]
    assert places == [Place("77 UNION ST S, CONCORD, NC, 28025", 35.40809, -80.58062)]
    assert "/locations/onelineaddress?" in asked
    assert "benchmark=Public_AR_Current" in asked and "format=json" in asked
    assert "Concord%2C+NC" in asked


def test_census_puts_the_match_nearest_the_city_first():
    with loopback_geocoder() as url:
        places = census(url).search("100 Main St, Springfield", CONCORD, 5)
    assert [place.label for place in places] == [
        "100 MAIN ST, SPRINGFIELD, NC, 28000",
        "100 MAIN ST, SPRINGFIELD, IL, 62701",
    ]


def test_census_finds_nothing_as_no_places():
    with loopback_geocoder() as url:
        assert census(url).search("1 Nowhere Rd, Concord, NC", CONCORD, 5) == []


def test_census_says_it_cannot_name_the_address_at_a_point():
    with pytest.raises(geocoding.ReverseNotOffered):
        census("http://127.0.0.1:9").reverse(*CONCORD)


@pytest.mark.parametrize("provider", ["nominatim", "census"])
def test_a_slow_geocoder_is_given_up_on_in_time(provider):
    with loopback_geocoder() as url:
        geocoder = Nominatim(url, timeout=0.5) if provider == "nominatim" else census(url, 0.5)
        started = time.monotonic()
        with pytest.raises(GeocoderUnavailable):
            geocoder.search("slow street", CONCORD, 5)
        assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("answer", sorted(GARBAGE))
def test_nominatim_garbage_is_unavailable(answer):
    with loopback_geocoder() as url, pytest.raises(GeocoderUnavailable):
        Nominatim(url, timeout=2).search(answer, CONCORD, 5)


@pytest.mark.parametrize("answer", sorted(CENSUS_GARBAGE))
def test_census_garbage_is_unavailable(answer):
    with loopback_geocoder() as url, pytest.raises(GeocoderUnavailable):
        census(url).search(f"{answer}, Concord, NC", CONCORD, 5)


def test_a_geocoder_that_is_not_there_is_unavailable():
    with pytest.raises(GeocoderUnavailable):
        Nominatim("http://127.0.0.1:9", timeout=1).search("77 Union St S", CONCORD, 5)


@pytest.mark.django_db
def test_answers_are_kept_briefly_so_typing_does_not_ask_twice(settings):
    program = Program.objects.get(department__schema_name="concord")
    program.geocoder = geocoding.NOMINATIM
    with loopback_geocoder() as url:
        settings.GEOCODER_URL = url
        first = geocoding.search(program, "77 Union St S")
        again = geocoding.search(program, "77  union st s ")
        nothing = geocoding.search(program, "nowhere at all")
        geocoding.search(program, "nowhere at all")
        asked = len(LoopbackGeocoder.asked)
        cache.clear()
        geocoding.search(program, "77 Union St S")
        asked_after_expiry = len(LoopbackGeocoder.asked)
    assert first == again and nothing == []
    assert asked == 2
    assert asked_after_expiry == 3


@pytest.mark.django_db
def test_failures_are_not_kept(settings):
    program = Program.objects.get(department__schema_name="concord")
    program.geocoder = geocoding.NOMINATIM
    with loopback_geocoder() as url:
        settings.GEOCODER_URL = url
        for _ in range(2):
            with pytest.raises(GeocoderUnavailable):
                geocoding.search(program, "not json")
        assert len(LoopbackGeocoder.asked) == 2


@pytest.mark.django_db
def test_the_department_chooses_its_provider(settings):
    program = Program.objects.get(department__schema_name="concord")
    settings.GEOCODER_URL = "http://nominatim.example.org"
    program.geocoder = geocoding.NOMINATIM
    assert isinstance(geocoding.provider_for(program), Nominatim)
    program.geocoder = geocoding.CENSUS
    provider = geocoding.provider_for(program)
    assert isinstance(provider, Census) and provider.locality == "Concord, NC"
    program.geocoder = geocoding.GAZETTEER
    assert isinstance(geocoding.provider_for(program), geocoding.Gazetteer)
    program.geocoder = geocoding.NONE
    assert geocoding.provider_for(program) is None
    # A provider the deployment does not configure is none at all.
    settings.GEOCODER_URL = ""
    program.geocoder = geocoding.NOMINATIM
    assert not geocoding.enabled(program)
