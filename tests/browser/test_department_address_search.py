"""The department console's address search in Chromium: on the registry map (whose tiles cannot
load, and which says so) an investigator finds an address, and its popup's "open an incident
here" opens the new-incident form with the address and the place filled in; the form's address
field suggests places too. In Little Rock, searching its local street list (the demo's
provider); the staff account is removed afterwards (browser.example.org)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from portal.registry.models import StaffMember
from tenants.models import Program
from tests.conftest import TOTP_SECRET, totp_now

EMAIL = "mara.maps@browser.example.org"
PASSWORD = "an-investigators-map-passphrase"
FOUND = "300 Main St, Little Rock, AR 72201"


@pytest.fixture
def investigator(page, live_url, committed_db: None) -> Iterator[object]:
    program = Program.objects.get(department__schema_name="littlerock")
    before = program.geocoder
    Program.objects.filter(pk=program.pk).update(geocoder="gazetteer")
    from tenants.middleware import hosts_forget

    hosts_forget()
    with schema_context("littlerock"):
        user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
        StaffMember.objects.create(user=user, role="investigator")
        TOTP.activate(user, TOTP_SECRET)
    page.route(re.compile(r"tile\.openstreetmap\.org|\.png$"), lambda route: route.abort())
    littlerock = live_url.format(city="littlerock")
    page.goto(littlerock + "/accounts/login/")
    page.fill("input[name=login]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/2fa/" not in url)
    yield page
    Program.objects.filter(pk=program.pk).update(geocoder=before)
    hosts_forget()


def test_an_address_found_on_the_map_opens_an_incident_there(investigator, live_url):
    page = investigator
    littlerock = live_url.format(city="littlerock")
    page.goto(littlerock + "/department/map/")
    # No tiles: the map says so in words, under the map.
    status = page.locator("#registry-map + .map-status")
    status.wait_for()
    assert "could not be loaded" in status.text_content()

    # A click on the map offers an incident at that point (with the address found there, or
    # without one when no street is near).
    page.locator("#registry-map").click()
    clicked = page.locator(".leaflet-popup-content")
    clicked.get_by_role("link", name="Open an incident here").wait_for()
    assert "Coordinates: 34.7" in clicked.text_content()
    assert "Looking up the address" not in clicked.text_content()
    assert "Main St, Little Rock, AR 72201" in clicked.text_content()

    search = page.get_by_role("combobox", name="Find an address on the map")
    search.press_sequentially("300 Main", delay=40)
    page.get_by_role("option", name=FOUND).click()
    popup = page.locator(".leaflet-popup-content", has_text=FOUND)
    popup.wait_for()
    assert FOUND in popup.text_content()
    popup.get_by_role("link", name="Open an incident here").click()

    page.wait_for_url(re.compile(r"/department/incidents/\?"))
    assert page.input_value("#id_address") == FOUND
    latitude, longitude = (
        float(page.input_value("#id_latitude")),
        float(page.input_value("#id_longitude")),
    )
    assert abs(latitude - 34.7458) < 0.001 and abs(longitude + 92.2896) < 0.002
    # The form's address suggests places as well, and a choice moves the place.
    address = page.locator("#id_address")
    assert address.get_attribute("role") == "combobox"
    address.fill("")
    address.press_sequentially("1200 W Markham", delay=40)
    page.locator(".address-search__option").first.wait_for()
    address.press("ArrowDown")
    address.press("Enter")
    assert address.input_value().startswith("1200 W Markham St, Little Rock, AR")
    assert float(page.input_value("#id_longitude")) < longitude - 0.01
