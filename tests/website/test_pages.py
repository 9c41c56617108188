"""Every page of the platform site answers in English and in Spanish, to anyone, without
signing in; GET and HEAD only."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders

from tests.website.conftest import spanish

PAGES = {
    "/": ("What a community camera registry is", "Qué es un registro comunitario de cámaras"),
    "/pricing/": ("Platform license", "Licencia de la plataforma"),
    "/security/": ("Reporting a vulnerability", "Cómo informar de una vulnerabilidad"),
    "/accessibility/": ("Known limitations", "Limitaciones conocidas"),
    "/docs/": ("the same documents as in the source", "los mismos documentos que en el"),
    "/docs/architecture/": ("Layers: imports only point down", "La documentación está escrita"),
}


@pytest.mark.parametrize("path", PAGES)
def test_each_page_answers_in_english(platform_client, path):
    response = platform_client.get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert PAGES[path][0] in page
    assert '<html lang="en">' in page
    assert "Español" in page


@pytest.mark.parametrize("path", PAGES)
def test_each_page_answers_in_spanish(platform_client, path):
    response = spanish(platform_client).get(path)

    assert response.status_code == 200
    page = response.content.decode()
    assert PAGES[path][1] in page
    assert '<html lang="es">' in page
    assert "Directorio de ciudades" in page  # the footer too
    assert "Directory of cities" not in page


def test_the_browsers_language_is_followed_without_a_cookie(platform_client):
    response = platform_client.get("/", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")

    assert "Busque su ciudad" in response.content.decode()


@pytest.mark.parametrize("path", PAGES)
def test_head_answers_without_a_body(platform_client, path):
    response = platform_client.head(path)

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("path", ["/", "/pricing/", "/docs/"])
def test_other_methods_are_refused(platform_client, path):
    assert platform_client.post(path).status_code == 405


def test_a_signed_in_vendor_sees_the_same_page_and_it_is_not_stored(
    platform_client, vendor, sign_in
):
    sign_in(platform_client, vendor)

    response = platform_client.get("/pricing/")

    assert response.status_code == 200
    assert "Platform license" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


def test_the_home_page_shows_real_screenshots_with_text_alternatives(platform_client):
    page = platform_client.get("/").content.decode()
    images = re.findall(r"<img [^>]*>", page)

    assert len(images) == 4
    for image in images:
        source = re.search(r'src="/static/([^"]+)"', image).group(1)
        assert finders.find(source), source
        assert 'width="1280"' in image and 'height="800"' in image
        assert len(re.search(r'alt="([^"]*)"', image).group(1)) > 30


def test_the_screenshots_text_alternatives_are_translated(platform_client):
    page = spanish(platform_client).get("/").content.decode()

    assert 'alt="El formulario de registro de una ciudad' in page


def test_the_home_page_calls_departments_and_residents_to_act(platform_client):
    page = platform_client.get("/").content.decode()

    assert '<a class="button button--primary" href="/request/">Request a program</a>' in page
    assert '<a class="button" href="/cities/">Find your city</a>' in page


def test_screenshots_are_small(platform_client):
    from pathlib import Path

    for name in ("resident-register", "resident-access-history", "department-canvass"):
        path = Path(finders.find(f"website/screenshots/{name}.webp"))
        assert path.stat().st_size < 160 * 1024
