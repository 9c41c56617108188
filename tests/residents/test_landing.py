"""Each city's portal shows that city's own branding and languages, and nothing of the others."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from tests.billing.plans import HUB_4, plan_make, plans_offer

pytestmark = pytest.mark.django_db

CITIES = {
    "concord": ("Concord Community Camera Registry", "#003f72", "Concord Police Department"),
    "carrollton": ("Carrollton Community Camera Partnership", "#7a1f2b", "Carrollton Police"),
    "littlerock": ("Eyes on the Rock", "#14532d", "Little Rock Police Department"),
}


@pytest.mark.parametrize("subdomain", CITIES)
def test_each_portal_shows_its_own_branding_and_none_of_the_others(host_client, subdomain):
    page = host_client(f"{subdomain}.localhost").get("/")
    assert page.status_code == 200
    html = page.content.decode()
    display_name, colour, department = CITIES[subdomain]
    assert f"<h1>{display_name}</h1>" in html
    assert department in html
    assert f"--brand-primary:{colour}" in html
    assert re.search(rf'<img class="brand__logo" src="/media/logos/{subdomain}[^"]*\.png"', html)
    for other, (other_name, other_colour, other_department) in CITIES.items():
        if other != subdomain:
            assert other_name not in html
            assert other_colour not in html
            assert other_department not in html


def test_the_welcome_text_is_the_citys_own(concord_client, carrollton_client):
    assert "ask for a copy of your footage" in concord_client.get("/").content.decode()
    carrollton = carrollton_client.get("/").content.decode()
    assert "every police access is monitored and recorded" in carrollton
    assert "ask for a copy of your footage" not in carrollton


def test_a_bilingual_portal_offers_both_languages(concord_client):
    html = concord_client.get("/").content.decode()
    assert 'name="language" value="en"' in html
    assert 'name="language" value="es"' in html


def test_an_english_only_portal_offers_no_language_switch(carrollton_client):
    html = carrollton_client.get("/").content.decode()
    assert 'name="language"' not in html


def test_choosing_spanish_translates_the_portal_and_is_remembered(concord_client):
    response = concord_client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert response.status_code == 302
    html = concord_client.get("/").content.decode()
    assert '<html lang="es">' in html
    assert "Cómo funciona el registro" in html
    assert "Registre la cámara de seguridad de su casa o negocio" in html
    assert "Ir al contenido principal" in html


def test_a_browser_asking_for_spanish_gets_spanish(concord_client):
    html = concord_client.get("/", HTTP_ACCEPT_LANGUAGE="es-US,es;q=0.9").content.decode()
    assert '<html lang="es">' in html


def test_a_language_the_city_did_not_enable_falls_back_to_its_default(carrollton_client):
    carrollton_client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    html = carrollton_client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="en">' in html
    assert "How the registry works" in html


def test_integration_is_explained_only_where_the_city_offers_devices(
    concord_client, carrollton_client
):
    assert "<h3>Integrate</h3>" not in carrollton_client.get("/").content.decode()
    plans_offer("carrollton", plan_make(HUB_4))
    assert "<h3>Integrate</h3>" in carrollton_client.get("/").content.decode()
    concord = concord_client.get("/").content.decode()
    assert "<h3>Integrate</h3>" not in concord
    assert "<h3>Registration only</h3>" in concord
    assert "it offers no integration devices" in concord


def test_a_city_can_override_a_template(littlerock_client, concord_client):
    assert "Your feed, your choice." in littlerock_client.get("/").content.decode()
    assert "Your feed, your choice." not in concord_client.get("/").content.decode()


def test_branding_colours_travel_under_the_content_security_policy(concord_client):
    response = concord_client.get("/")
    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
    policy = response["Content-Security-Policy"]
    assert f"'nonce-{nonce}'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_the_logo_is_kept_through_the_storage_api(concord_client):
    html = concord_client.get("/").content.decode()
    logo_url = re.search(r'<img class="brand__logo" src="([^"]+)"', html).group(1)
    name = logo_url.removeprefix(settings.MEDIA_URL)
    assert default_storage.url(name) == logo_url
    with default_storage.open(name) as logo:
        assert logo.read(8) == b"\x89PNG\r\n\x1a\n"
