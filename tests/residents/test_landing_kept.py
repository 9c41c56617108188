"""A city's landing page is kept per city and language for anonymous visitors (issue 14: the
landing page at 600 requests a second; tenants.page_cache): rendered once, then served with each
visitor's own CSP nonce, never another city's page or another language's, never to a signed-in
visitor, and forgotten at once when the city's branding changes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

import portal.residents.views
from tenants.models import Department

pytestmark = pytest.mark.django_db


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The schemas the landing view actually rendered for (plans_offered runs once a render)."""
    seen: list[str] = []
    original = portal.residents.views.plans_offered

    def counted(department: Department) -> Any:
        seen.append(department.schema_name)
        return original(department)

    monkeypatch.setattr(portal.residents.views, "plans_offered", counted)
    return seen


def nonce_of(response: object) -> str:
    body = response.content.decode()  # type: ignore[attr-defined]
    found = re.search(r'<style nonce="([^"]+)">', body)
    assert found, body
    nonce = found.group(1)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]  # type: ignore[index]
    return nonce


def test_the_page_is_rendered_once_and_each_visitor_gets_their_own_nonce(
    host_client: Callable[[str], Client], renders: list[str]
) -> None:
    first = host_client("concord.localhost").get("/")
    second = host_client("concord.localhost").get("/")
    assert first.status_code == second.status_code == 200
    assert renders == ["concord"]
    assert nonce_of(first) != nonce_of(second)
    assert "__canvass-csp-nonce__" not in second.content.decode()
    # Nothing personal travels in the kept page: no CSRF token, no cookie set.
    assert "csrfmiddlewaretoken" not in second.content.decode()
    assert not second.cookies


def test_two_cities_and_two_languages_are_kept_apart(
    host_client: Callable[[str], Client], renders: list[str]
) -> None:
    concord = host_client("concord.localhost").get("/").content.decode()
    littlerock = host_client("littlerock.localhost").get("/").content.decode()
    assert "Concord Community Camera Registry" in concord
    assert "Concord Community Camera Registry" not in littlerock
    spanish_client = host_client("concord.localhost")
    spanish_client.cookies["django_language"] = "es"
    spanish = spanish_client.get("/").content.decode()
    assert '<html lang="es">' in spanish
    assert '<html lang="en">' in host_client("concord.localhost").get("/").content.decode()
    assert sorted(renders) == ["concord", "concord", "littlerock"]


def test_a_signed_in_visitor_always_gets_a_fresh_page(
    host_client: Callable[[str], Client], make_resident: Callable[..., Any], renders: list[str]
) -> None:
    host_client("concord.localhost").get("/")
    resident = make_resident("concord", email="kept@example.org")
    page = resident.client.get("/").content.decode()
    assert "kept@example.org" in page
    assert renders == ["concord", "concord"]


def test_a_branding_change_is_seen_at_once(
    host_client: Callable[[str], Client], renders: list[str]
) -> None:
    host_client("concord.localhost").get("/")
    branding = Department.objects.get(schema_name="concord").branding
    old_name = branding.display_name
    branding.display_name = "Concord Cameras Together"
    branding.save()
    try:
        page = host_client("concord.localhost").get("/").content.decode()
        assert "Concord Cameras Together" in page
    finally:
        branding.display_name = old_name
        branding.save()


def test_the_language_switch_is_a_get_form_that_sets_the_cookie(
    host_client: Callable[[str], Client],
) -> None:
    client: Client = host_client("concord.localhost")
    page = client.get("/").content.decode()
    form = re.search(r'<form class="language-switch" method="get" action="([^"]+)"', page)
    assert form, page
    response = client.get(form.group(1), {"language": "es", "next": "/register/"})
    assert response.status_code == 302
    assert response["Location"] == "/register/"
    assert response.cookies["django_language"].value == "es"
    # Another host is never a destination.
    away = client.get(form.group(1), {"language": "es", "next": "https://evil.example/"})
    assert away["Location"] == "/"
