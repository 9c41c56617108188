"""The platform site lives on the platform's host only; its footer links to every part of it,
the source and the security contact (from the settings)."""

from __future__ import annotations

import re

import pytest
from django.urls import get_resolver

from tests.website.conftest import spanish

OTHER_PARTS = ("/request/", "/cities/")  # built beside this site (onboarding, directory)


@pytest.mark.parametrize("path", ["/pricing/", "/security/", "/accessibility/", "/docs/"])
def test_a_city_host_does_not_serve_the_platform_pages(concord_client, path):
    response = concord_client.get(path)

    assert response.status_code == 404 or "Platform license" not in response.content.decode()
    assert "website/website.css" not in response.content.decode()


def test_a_city_hosts_home_is_its_portal(concord_client):
    page = concord_client.get("/").content.decode()

    assert "website/website.css" not in page
    assert "What a community camera registry is" not in page


def footer_links(page: str) -> list[str]:
    footer = page[page.index('<footer class="site-footer">') :]
    return re.findall(r'href="([^"]+)"', footer)


def test_every_footer_link_of_the_site_answers(platform_client, settings):
    links = footer_links(platform_client.get("/").content.decode())

    assert set(OTHER_PARTS) <= set(links)
    assert settings.CANVASS_SOURCE_URL in links
    assert f"mailto:{settings.SECURITY_CONTACT_EMAIL}" in links
    own = [link for link in links if link.startswith("/") and link not in OTHER_PARTS]
    assert {"/pricing/", "/security/", "/accessibility/", "/docs/"} <= set(own)
    for link in own:
        assert platform_client.get(link).status_code == 200, link


def test_the_other_parts_have_their_place_in_the_platforms_urls():
    prefixes = {
        str(pattern.pattern) for pattern in get_resolver("canvass.urls_public").url_patterns
    }

    assert {"cities/", "request/"} <= prefixes


def test_the_source_and_security_contact_come_from_the_settings(platform_client, settings):
    settings.CANVASS_SOURCE_URL = "https://code.example.gov/canvass"
    settings.SECURITY_CONTACT_EMAIL = "psirt@example.gov"

    security = platform_client.get("/security/").content.decode()

    assert 'href="https://code.example.gov/canvass"' in security
    assert 'href="mailto:psirt@example.gov">psirt@example.gov</a> with what you found' in security


def test_the_default_security_contact_is_on_the_base_domain():
    from canvass import settings as project

    assert f"security@{project.CANVASS_BASE_DOMAIN}" == project.SECURITY_CONTACT_EMAIL
    assert project.CANVASS_SOURCE_URL.startswith("https://")


def test_the_spanish_footer(platform_client):
    page = spanish(platform_client).get("/accessibility/").content.decode()
    footer = page[page.index("<footer") :]

    for text in ("Directorio de ciudades", "Código fuente", "Precios", "Accesibilidad"):
        assert text in footer
