"""The directory of participating cities on the platform site: every listed department with its
program's name, city and state, logo and portal link, in English and Spanish, without
JavaScript; suspended, still-provisioning and unlisted departments are not in it."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.models import Department

pytestmark = pytest.mark.django_db
PAGE = "/cities/"


def cards(html: str) -> list[str]:
    return re.findall(r'<li class="directory-card">(.*?)</li>', html, re.S)


def card_of(html: str, name: str) -> str:
    found = [card for card in cards(html) if name in card]
    assert len(found) == 1, f"{name!r} in {len(found)} cards"
    return found[0]


def test_listed_cities_appear_with_their_name_place_portal_link_and_logo(platform_client):
    response = platform_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    concord = card_of(html, "Concord Community Camera Registry")
    assert "Concord, NC" in concord
    assert 'href="http://concord.localhost:8000/"' in concord
    logo = re.search(r'<img class="directory-card__logo" src="([^"]+)"', concord).group(1)
    assert logo.startswith("http://concord.localhost:8000/media/logos/concord/")
    rock = card_of(html, "Eyes on the Rock")
    assert "Little Rock, AR" in rock
    assert 'href="http://littlerock.localhost:8000/"' in rock
    card_of(html, "Carrollton Community Camera Partnership")


def test_the_logo_comes_from_its_portal_and_the_page_allows_it(platform_client, concord_client):
    response = platform_client.get(PAGE)
    logo = re.search(
        r'<img class="directory-card__logo" src="http://concord.localhost:8000(/[^"]+)"',
        response.content.decode(),
    ).group(1)
    portal = concord_client.get("/").content.decode()
    assert re.search(r'<img class="brand__logo" src="([^"]+)"', portal).group(1) == logo
    assert "http://*.localhost:8000" in response["Content-Security-Policy"]


def test_a_city_without_a_logo_gets_an_initial_badge(platform_client, make_city):
    make_city("springfield", city="Springfield", state="IL", display_name="Safe Springfield")
    card = card_of(platform_client.get(PAGE).content.decode(), "Safe Springfield")
    assert '<span class="directory-card__badge" aria-hidden="true">S</span>' in card
    assert "<img" not in card


def test_a_suspended_department_is_not_listed(platform_client, make_city):
    Department.objects.filter(schema_name="carrollton").update(status=Department.Status.SUSPENDED)
    make_city(
        "newtown",
        city="Newtown",
        state="CT",
        display_name="Newtown Cameras",
        status=Department.Status.PROVISIONING,
    )
    html = platform_client.get(PAGE).content.decode()
    assert "Carrollton" not in html
    assert "Newtown" not in html
    assert "Concord Community Camera Registry" in html


def test_an_unlisted_department_is_not_listed(platform_client, make_city):
    Department.objects.filter(schema_name="littlerock").update(listed=False)
    make_city("hidden", city="Hiddenville", state="OH", display_name="Quiet", listed=False)
    html = platform_client.get(PAGE).content.decode()
    assert "Eyes on the Rock" not in html
    assert "Hiddenville" not in html
    assert "Concord Community Camera Registry" in html


def test_cities_are_sorted_by_state_then_city_and_paged(platform_client, make_city):
    for number in range(60):
        make_city(f"town{number:02}", city=f"Town {number:02}", state="WY", display_name="Cams")
    first = platform_client.get(PAGE).content.decode()
    places = re.findall(r'<p class="directory-card__place">([^<]+)</p>', first)
    assert places[:3] == ["Little Rock, AR", "Carrollton, GA", "Concord, NC"]
    assert len(places) == 50
    assert "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    second = platform_client.get(PAGE, {"page": "2"}).content.decode()
    assert re.findall(r'<p class="directory-card__place">([^<]+)</p>', second)[-1] == (
        "Town 59, WY"
    )
    # A page number that is no page shows a page all the same.
    assert platform_client.get(PAGE, {"page": "nine"}).status_code == 200
    assert platform_client.get(PAGE, {"page": "999"}).status_code == 200


def test_the_list_works_without_javascript_and_the_map_is_an_enhancement(platform_client):
    html = platform_client.get(PAGE).content.decode()
    assert re.search(r'<div id="directory-map" class="directory-map" hidden', html)
    assert 'data-map-url="/cities/map.json"' in html
    assert "<script>" not in html and "onclick" not in html  # the CSP forbids inline scripts
    assert '/static/website/directory.js"' in html
    assert '/static/leaflet/leaflet.js"' in html
    assert len(cards(html)) == 3


def test_the_page_asks_a_missing_department_to_request_a_program(platform_client):
    html = platform_client.get(PAGE).content.decode()
    assert 'Is your department not here? <a href="/request/">Ask it to request a program</a>' in (
        html
    )


def test_the_page_is_in_spanish(platform_client):
    platform_client.cookies["django_language"] = "es"
    html = platform_client.get(PAGE, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'lang="es"' in html
    assert "Ciudades participantes" in html
    assert "Ciudad, programa, estado o código postal" in html
    assert "¿Su departamento no está aquí?" in html
    missing = platform_client.get(PAGE, {"q": "00000"}).content.decode()
    assert "No conocemos el código postal 00000" in missing


def test_the_page_costs_a_bounded_number_of_queries(platform_client, make_city):
    with CaptureQueriesContext(connection) as few:
        assert platform_client.get(PAGE).status_code == 200
    for number in range(30):
        make_city(f"many{number:02}", city=f"Many {number:02}", state="TX", display_name="Cams")
    with CaptureQueriesContext(connection) as many:
        html = platform_client.get(PAGE).content.decode()
    assert len(cards(html)) == 33
    assert len(many) == len(few) <= 6, [query["sql"] for query in many]
