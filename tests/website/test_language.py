"""The language switch on the platform site: a GET form to website:language, which sets
Django's language cookie and returns to the page; Django's set_language keeps working."""

from __future__ import annotations

import pytest
from django.conf import settings


def test_switching_to_spanish_sets_the_cookie_and_returns(platform_client):
    response = platform_client.get("/language/", {"language": "es", "next": "/pricing/"})

    assert response.status_code == 302
    assert response["Location"] == "/pricing/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "es"
    assert "Licencia de la plataforma" in platform_client.get("/pricing/").content.decode()


def test_the_switch_is_a_form_without_a_csrf_token(platform_client):
    page = platform_client.get("/security/").content.decode()

    assert '<form class="site-language" method="get" action="/language/">' in page
    assert '<input type="hidden" name="next" value="/security/">' in page
    assert '<button type="submit" name="language" value="es" lang="es">Español</button>' in page
    assert "csrfmiddlewaretoken" not in page


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)", ""]
)
def test_it_never_sends_the_visitor_elsewhere(platform_client, next_url):
    response = platform_client.get("/language/", {"language": "es", "next": next_url})

    assert response["Location"] == "/"


def test_an_unknown_language_changes_nothing(platform_client):
    response = platform_client.get("/language/", {"language": "xx", "next": "/"})

    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_djangos_set_language_still_works_on_the_platform_host(platform_client):
    platform_client.post("/i18n/setlang/", {"language": "es", "next": "/"})

    assert "Busque su ciudad" in platform_client.get("/").content.decode()


def test_back_to_english(platform_client):
    platform_client.get("/language/", {"language": "es", "next": "/"})
    platform_client.get("/language/", {"language": "en", "next": "/"})

    assert "Find your city" in platform_client.get("/").content.decode()
