"""The site form and the new-incident form place a site or an incident from its address alone:
coordinates are optional, the server looks the address up with the department's geocoder, and
an address it cannot find (or a geocoder that fails) is a clear message asking for the pin,
with nothing saved."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.department.models import Incident
from portal.registry.models import Site
from tenants.models import Program
from tests.conftest import incident_post_data
from tests.geocoding.loopback import loopback_geocoder

pytestmark = pytest.mark.django_db

NO_COORDINATES = {"latitude": "", "longitude": ""}


def provider_set(schema_name: str, geocoder: str) -> None:
    Program.objects.filter(department__schema_name=schema_name).update(geocoder=geocoder)


def sites() -> list[Site]:
    with schema_context("concord"):
        return list(Site.objects.all())


def test_an_address_alone_registers_the_site_where_the_address_is(make_resident, site_data):
    provider_set("concord", "gazetteer")
    alice = make_resident("concord")
    page = alice.client.get("/register/").content.decode()
    assert "Enter coordinates instead" in page and 'id="site-where"' in page
    response = alice.client.post(
        "/register/", site_data(address="150 Union Street South", **NO_COORDINATES)
    )
    assert response.status_code == 302
    [site] = sites()
    assert site.address == "150 Union Street South"
    assert abs(site.latitude - 35.4074) < 0.002 and abs(site.longitude + 80.5799) < 0.002


def test_coordinates_given_are_kept_as_given(make_resident, site_data):
    provider_set("concord", "gazetteer")
    alice = make_resident("concord")
    alice.client.post("/register/", site_data(address="150 Union Street South"))
    [site] = sites()
    assert (site.latitude, site.longitude) == (35.4080, -80.5810)


def test_an_address_not_found_asks_for_the_pin(make_resident, site_data):
    provider_set("concord", "gazetteer")
    alice = make_resident("concord")
    response = alice.client.post(
        "/register/", site_data(address="12 Imaginary Lane", **NO_COORDINATES)
    )
    assert response.status_code == 200
    assert "We could not find this address; check it, or place the pin on the map." in (
        response.content.decode()
    )
    assert sites() == []


def test_a_geocoder_that_fails_asks_for_the_pin(make_resident, site_data, settings):
    provider_set("concord", "nominatim")
    alice = make_resident("concord")
    with loopback_geocoder() as url:
        settings.GEOCODER_URL = url
        response = alice.client.post("/register/", site_data(address="not json", **NO_COORDINATES))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Address search is not available right now; place the pin on the map." in page
    # The coordinates open, for the pin or typed coordinates.
    assert 'class="coordinates" open' in page
    assert sites() == []


def test_a_slow_geocoder_asks_for_the_pin_in_the_residents_language(
    make_resident, site_data, settings
):
    provider_set("concord", "nominatim")
    settings.GEOCODER_TIMEOUT = 0.5
    alice = make_resident("concord", language="es")
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    with loopback_geocoder() as url:
        settings.GEOCODER_URL = url
        response = alice.client.post("/register/", site_data(address="slow st", **NO_COORDINATES))
    assert response.status_code == 200
    assert "coloque el marcador en el mapa" in response.content.decode()
    assert sites() == []


def test_without_address_search_the_coordinates_are_needed(make_resident, site_data):
    provider_set("concord", "none")
    alice = make_resident("concord")
    response = alice.client.post("/register/", site_data(**NO_COORDINATES))
    assert response.status_code == 200
    assert "Place the pin on the map, or type the coordinates." in response.content.decode()
    assert sites() == []


def test_one_coordinate_alone_is_refused(make_resident, site_data):
    provider_set("concord", "gazetteer")
    alice = make_resident("concord")
    response = alice.client.post("/register/", site_data(longitude=""))
    assert "Give both coordinates, or leave both empty." in response.content.decode()
    assert sites() == []


def test_an_incident_is_opened_by_its_address_alone(make_staff):
    provider_set("concord", "gazetteer")
    investigator = make_staff("concord", "investigator")
    form = investigator.client.get("/department/incidents/").content.decode()
    assert "data-address-search=" in form
    response = investigator.client.post(
        "/department/incidents/",
        incident_post_data(address="150 Union St S", **NO_COORDINATES),
    )
    assert response.status_code == 302
    with schema_context("concord"):
        incident = Incident.objects.get()
    assert abs(incident.latitude - 35.4074) < 0.002


def test_an_incident_address_not_found_asks_for_the_map(make_staff):
    provider_set("concord", "gazetteer")
    investigator = make_staff("concord", "investigator")
    response = investigator.client.post(
        "/department/incidents/",
        incident_post_data(address="12 Imaginary Lane", **NO_COORDINATES),
    )
    assert "No place found for this address; click the map." in response.content.decode()
    with schema_context("concord"):
        assert not Incident.objects.exists()
