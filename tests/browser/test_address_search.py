"""Address search in Chromium: a resident types an address on the registration form, picks a
suggestion with the keyboard, sees the pin placed and registers without touching the
coordinates; a click on the map fills an empty address; and maps whose tiles (or Leaflet itself)
cannot load say so in words while the form stays usable. Concord searches its local street list
(the demo's provider) for these tests."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from portal.registry.models import Site
from portal.registry.services import participant_create
from tenants.models import Program
from tests.browser.test_accessibility import audit  # noqa: F401

EMAIL = "gabriel@browser.example.org"
PASSWORD = "a-resident-passphrase-long"
CHOSEN = "150 Union St S, Concord, NC 28025"


@pytest.fixture
def street_list(committed_db: None) -> Iterator[None]:
    """Concord searches its street list for the test, as in the demo; then as before."""
    program = Program.objects.get(department__schema_name="concord")
    before = program.geocoder
    Program.objects.filter(pk=program.pk).update(geocoder="gazetteer")
    from tenants.middleware import hosts_forget

    hosts_forget()
    yield
    Program.objects.filter(pk=program.pk).update(geocoder=before)
    hosts_forget()


@pytest.fixture
def resident(page, live_url, street_list):
    """A signed-in Concord resident without a site, in a browser whose map tiles cannot load
    (as on a machine without the internet)."""
    with schema_context("concord"):
        user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=EMAIL, primary=True, verified=True)
        participant_create(user=user)
    page.route(re.compile(r"tile\.openstreetmap\.org|\.png$"), lambda route: route.abort())
    concord = live_url.format(city="concord")
    page.goto(concord + "/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(concord + "/**")
    return page


def fill_the_rest(page) -> None:
    page.check("input[name=kind][value=home]")
    page.fill("#id_cameras-0-label", "Porch")
    page.fill("#id_cameras-0-direction", "90")
    page.check("input[name='cameras-0-sees'][value='street']")
    page.select_option("#id_cameras-0-mount", "wall")
    page.check("input[name='cameras-0-recording'][value='motion']")
    page.fill("#id_cameras-0-retention_days", "14")
    page.fill("#id_contact_name", "Gabriel Ortiz")
    page.fill("#id_contact_phone", "704-555-0177")
    page.check("input[name=contact_method][value=phone]")
    page.check("#id_accept_terms")


def test_a_resident_types_an_address_picks_a_suggestion_and_registers(resident, live_url):
    page = resident
    concord = live_url.format(city="concord")
    page.goto(concord + "/register/")
    address = page.locator("#id_address")
    assert address.get_attribute("role") == "combobox"
    assert address.get_attribute("aria-expanded") == "false"
    # The coordinates wait inside "Enter coordinates instead", closed.
    assert not page.locator("#id_latitude").is_visible()

    address.press_sequentially("150 Union", delay=40)
    option = page.get_by_role("option", name=CHOSEN)
    option.wait_for()
    assert address.get_attribute("aria-expanded") == "true"
    assert "addresses found" in page.locator(".address-search__status").text_content() or (
        "address found" in page.locator(".address-search__status").text_content()
    )
    address.press("ArrowDown")
    active = address.get_attribute("aria-activedescendant")
    assert active and page.locator(f"#{active}").text_content() == CHOSEN
    address.press("Enter")  # chooses the place; the form is not sent
    assert address.input_value() == CHOSEN
    assert address.get_attribute("aria-expanded") == "false"
    page.locator(".leaflet-marker-icon").wait_for()
    latitude = float(page.input_value("#id_latitude"))
    longitude = float(page.input_value("#id_longitude"))
    assert abs(latitude - 35.4067) < 0.001 and abs(longitude + 80.5802) < 0.001
    # The tiles did not load: the map says so in words.
    status = page.locator("#site-map + .map-status")
    status.wait_for()
    assert "could not be loaded" in status.text_content()

    fill_the_rest(page)
    page.get_by_role("button", name="Register this site").click()
    page.wait_for_url(re.compile(r"/my/$"))
    with schema_context("concord"):
        site = Site.objects.get(participant__user__email=EMAIL)
    assert site.address == CHOSEN
    assert (round(site.latitude, 6), round(site.longitude, 6)) == (latitude, longitude)


def test_a_click_on_the_map_fills_an_empty_address(resident, live_url):
    page = resident
    page.goto(live_url.format(city="concord") + "/register/")
    page.locator("#site-map.leaflet-container").wait_for()
    # A click on Union St S, 150 (the map's own click event at that point).
    page.evaluate("canvassSiteMap.map.fire('click', {latlng: L.latLng(35.406716, -80.580185)})")
    # The house number interpolated at the point clicked, within a number or two of 150.
    expect(page.locator("#id_address")).to_have_value(
        re.compile(r"^1(4[89]|5[012]) Union St S, Concord, NC 28025$")
    )
    assert (
        "Address filled in from the map" in page.locator(".address-search__status").text_content()
    )
    # An address the resident typed is never overwritten by a click.
    page.fill("#id_address", "My own words")
    page.evaluate("canvassSiteMap.map.fire('click', {latlng: L.latLng(35.4074, -80.5799)})")
    page.wait_for_timeout(500)
    assert page.input_value("#id_address") == "My own words"


def test_without_leaflet_the_form_says_so_and_registers_by_address(resident, live_url):
    page = resident
    page.route("**/leaflet.js", lambda route: route.abort())
    page.goto(live_url.format(city="concord") + "/register/")
    status = page.locator(".map-status")
    status.wait_for()
    assert "The map could not be loaded" in status.text_content()
    assert not page.locator("#site-map").is_visible()
    # The address alone still places the site: the server looks it up.
    page.fill("#id_address", "150 Union St S")
    fill_the_rest(page)
    page.get_by_role("button", name="Register this site").click()
    page.wait_for_url(re.compile(r"/my/$"))
    with schema_context("concord"):
        site = Site.objects.get(participant__user__email=EMAIL)
    assert abs(site.latitude - 35.4067) < 0.001


def test_the_directory_map_without_tiles_says_so(page, live_url):
    page.route("**/*.png", lambda route: route.abort())
    page.goto(live_url.replace("{city}.", "") + "/cities/")
    status = page.locator("#directory-map + .map-status")
    status.wait_for()
    assert "could not be loaded" in status.text_content()
    # The list below the map is still there.
    assert page.locator(".directory-card").count() == 3


def test_the_suggestions_and_the_map_message_are_accessible(audit, live_url, street_list):  # noqa: F811
    with schema_context("concord"):
        user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=EMAIL, primary=True, verified=True)
        participant_create(user=user)
    page = audit.page
    page.route(re.compile(r"tile\.openstreetmap\.org|\.png$"), lambda route: route.abort())
    concord = live_url.format(city="concord")
    page.goto(concord + "/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(concord + "/**")
    page.goto(concord + "/register/")
    page.locator("#id_address").press_sequentially("Union St", delay=40)
    page.get_by_role("option").first.wait_for()
    page.locator("#id_address").press("ArrowDown")
    page.locator(".map-status").wait_for()
    audit()
    # The coordinates, opened, too.
    page.locator("details.coordinates summary").click()
    audit()
