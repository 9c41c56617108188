"""The 500 page in the city's brand (issue 12, item 4): a bug in a view answers the city's
layout with its name, in the visitor's language, with a way on; if the branded page itself
fails, the plain page; a database outage keeps its own page (tests/faults/test_outage_page.py)."""

from __future__ import annotations

import pytest
from django.test import Client

import canvass.error_pages
import portal.residents.views
from tenants.models import Department

pytestmark = pytest.mark.django_db


def broken(*args: object, **kwargs: object) -> None:
    raise RuntimeError("a bug in the view")


@pytest.fixture
def client(settings: pytest.FixtureRequest) -> Client:
    settings.DEBUG = False  # type: ignore[attr-defined]
    return Client(raise_request_exception=False)


def test_a_bug_answers_the_citys_500_page(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portal.residents.views, "plans_offered", broken)
    response = client.get("/", HTTP_HOST="concord.localhost")
    body = response.content.decode()
    assert response.status_code == 500
    assert 'id="canvass-error" data-status="500"' in body
    assert Department.objects.get(schema_name="concord").branding.display_name in body
    assert 'class="site-header"' in body
    assert "Something went wrong" in body
    assert "a bug in the view" not in body and "Traceback" not in body


def test_the_500_page_speaks_spanish(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portal.residents.views, "plans_offered", broken)
    client.cookies["django_language"] = "es"
    body = client.get("/", HTTP_HOST="concord.localhost").content.decode()
    assert '<html lang="es">' in body
    assert "Algo salió mal" in body


def test_a_500_page_that_cannot_be_branded_is_plain(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(portal.residents.views, "plans_offered", broken)
    monkeypatch.setattr(canvass.error_pages, "render", broken)
    response = client.get("/", HTTP_HOST="concord.localhost")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "canvass-error" not in body
