"""Searching the directory: by city (case-insensitive), program name or state (code or name); by
ZIP code (or ZIP+4), the programs whose service area holds the ZIP code's centre first, then
those near it, nearest first; an unknown ZIP code or a search that finds nothing says so."""

from __future__ import annotations

import re

import pytest
from website.directory import zip_centre

from tenants.models import Department, Program
from tenants.units import format_distance

pytestmark = pytest.mark.django_db
PAGE = "/cities/"


def names(client, query: str) -> list[str]:
    response = client.get(PAGE, {"q": query})
    assert response.status_code == 200
    return re.findall(
        r'<h2 class="directory-card__name"><a href="[^"]+">([^<]+)</a>', (response.content.decode())
    )


def test_a_search_by_city_ignores_case(platform_client):
    assert names(platform_client, "concord") == ["Concord Community Camera Registry"]
    assert names(platform_client, "LITTLE rock") == ["Eyes on the Rock"]
    assert names(platform_client, "  little   rock ") == ["Eyes on the Rock"]


def test_a_search_by_program_name(platform_client):
    assert names(platform_client, "eyes on the") == ["Eyes on the Rock"]
    assert names(platform_client, "partnership") == ["Carrollton Community Camera Partnership"]


def test_a_search_by_state_code_or_name(platform_client, make_city):
    make_city("fayetteville", city="Fayetteville", state="AR", display_name="Fayetteville Cams")
    # "ar" is Arkansas, not every city or program with "ar" in its name (Carrollton).
    assert names(platform_client, "ar") == ["Fayetteville Cams", "Eyes on the Rock"]
    assert names(platform_client, "Arkansas") == ["Fayetteville Cams", "Eyes on the Rock"]
    assert names(platform_client, "north carolina") == ["Concord Community Camera Registry"]


def test_two_cities_of_one_name_are_both_found_each_with_its_own_portal(platform_client, make_city):
    make_city("concordca", city="Concord", state="CA", display_name="Concord CA Cameras")
    html = platform_client.get(PAGE, {"q": "Concord"}).content.decode()
    assert 'href="http://concordca.localhost:8000/">Concord CA Cameras</a>' in html
    assert 'href="http://concord.localhost:8000/">Concord Community Camera Registry</a>' in html
    assert "2 programs match “Concord”." in html


def test_a_zip_code_finds_the_programs_serving_it_first_then_those_nearby(
    platform_client, make_city
):
    # Around ZIP code 28025 (Concord, NC; centre 35.3716, -80.53): Concord's centre is 6 km away
    # (radius 16 km), Kannapolis's 15 km (radius 20 km), Harrisburg's 13 km (radius 1 km: not
    # served, but near), Charlotte's 32 km (radius 5 km), Raleigh's 200 km.
    make_city("kannapolis", city="Kannapolis", state="NC", display_name="Kannapolis Cams",
              centre=(35.4874, -80.6217), radius_m=20_000)  # fmt: skip
    make_city("harrisburg", city="Harrisburg", state="NC", display_name="Harrisburg Cams",
              centre=(35.3238, -80.6573), radius_m=1_000)  # fmt: skip
    make_city("charlotte", city="Charlotte", state="NC", display_name="Charlotte Cams",
              centre=(35.2271, -80.8431), radius_m=5_000)  # fmt: skip
    make_city("raleigh", city="Raleigh", state="NC", display_name="Raleigh Cams",
              centre=(35.7796, -78.6382), radius_m=20_000)  # fmt: skip
    assert names(platform_client, "28025") == [
        "Concord Community Camera Registry",
        "Kannapolis Cams",
        "Harrisburg Cams",
        "Charlotte Cams",
    ]
    html = platform_client.get(PAGE, {"q": "28025"}).content.decode()
    assert "4 programs serve ZIP code 28025 (Concord, NC) or lie within 31 mi of it." in html
    cards = re.findall(r'<li class="directory-card">(.*?)</li>', html, re.S)
    assert [("Serves this ZIP code" in card) for card in cards] == [True, True, False, False]
    # The distances the database computed are the model's (Program.distance_from_center_m).
    centre = zip_centre("28025")
    # In miles, as US visitors read them (tenants.units).
    expected = [
        format_distance(
            Program.objects.get(department__schema_name=schema).distance_from_center_m(
                centre.latitude, centre.longitude
            )
        )
        + " away"
        for schema in ("concord", "kannapolis", "harrisburg", "charlotte")
    ]
    assert [re.search(r"[\d.]+ mi away", card).group(0) for card in cards] == expected
    assert expected[-1] == "20 mi away"


def test_a_zip_plus_four_code_is_its_zip_code(platform_client):
    assert names(platform_client, "72201-1234") == ["Eyes on the Rock"]
    assert names(platform_client, "72201") == ["Eyes on the Rock"]


def test_a_suspended_or_unlisted_program_is_not_found_by_zip_code(platform_client):
    Department.objects.filter(schema_name="concord").update(listed=False)
    Department.objects.filter(schema_name="littlerock").update(status="suspended")
    assert names(platform_client, "28025") == []
    assert names(platform_client, "72201") == []


def test_an_unknown_zip_code_says_so(platform_client):
    html = platform_client.get(PAGE, {"q": "00000"}).content.decode()
    assert "We do not know the ZIP code 00000. Check it, or search by your city's name." in html
    assert "directory-card" not in html
    assert zip_centre("00000") is None


def test_a_zip_code_far_from_every_program_finds_none_and_says_what_to_do(platform_client):
    html = platform_client.get(PAGE, {"q": "99501"}).content.decode()  # Anchorage, AK
    assert "directory-card" not in html
    assert "No participating program matches “99501”." in html
    assert '<a href="/request/">Ask it to request a program</a>' in html


def test_a_search_that_finds_nothing_says_so(platform_client):
    html = platform_client.get(PAGE, {"q": "Springfield"}).content.decode()
    assert "No participating program matches “Springfield”." in html
    assert '<a href="/request/">Ask it to request a program</a>' in html


@pytest.mark.parametrize(
    "query",
    ["%", "_", "'; DROP TABLE tenants_department; --", "<script>alert(1)</script>", "x" * 5000,
     "2802", "280255", "28025-", "Çöñcørd"],
)  # fmt: skip
def test_odd_searches_answer_a_page_never_an_error(platform_client, query):
    response = platform_client.get(PAGE, {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "directory-card" not in html
    assert Department.objects.filter(schema_name="concord").exists()


def test_control_characters_are_no_part_of_a_search(platform_client):
    assert names(platform_client, "Con\u0000cord\t") == ["Concord Community Camera Registry"]
