"""Pages are kept per language for visitors without a session: the second visit reads
nothing from the database, a language never gets the other's page, and nothing personal
(a session, a message, a token) is kept or served from the kept copy."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from billing.models import DevicePlan
from tests.website.conftest import spanish


@pytest.fixture(autouse=True)
def plan(db) -> DevicePlan:
    return DevicePlan.objects.create(
        slug="cache-hub",
        name="Cache Hub",
        cameras_supported=2,
        storage_gb=500,
        device_price=350_00,
        yearly_price=150_00,
        description_en="Two cameras.",
        description_es="Dos cámaras.",
    )


def test_the_second_visit_is_served_from_the_kept_page(platform_client, django_assert_num_queries):
    first = platform_client.get("/pricing/")
    DevicePlan.objects.update(name="Renamed meanwhile")
    assert "Cache Hub" in first.content.decode()

    # Nothing at all: the host's department is kept by the process (tenants.middleware), and
    # the page by the cache.
    with django_assert_num_queries(0):
        second = platform_client.get("/pricing/")

    assert second.content == first.content


def test_each_language_has_its_own_kept_page(platform_client):
    english = platform_client.get("/").content.decode()
    other = spanish(Client(HTTP_HOST="localhost")).get("/").content.decode()

    assert "Find your city" in english
    assert "Busque su ciudad" in other
    assert "Find your city" in platform_client.get("/").content.decode()


def test_a_visitor_with_a_session_always_gets_a_fresh_page(platform_client):
    platform_client.get("/pricing/")
    DevicePlan.objects.filter(active=True).update(name="Fresh Name")
    platform_client.cookies[settings.SESSION_COOKIE_NAME] = "some-session"

    assert "Fresh Name" in platform_client.get("/pricing/").content.decode()


def test_a_pending_message_is_never_kept(platform_client):
    platform_client.cookies["messages"] = "anything"
    platform_client.get("/")
    del platform_client.cookies["messages"]

    # Nothing was kept: a change shows at once.
    DevicePlan.objects.filter(active=True).update(name="Shown At Once")
    platform_client.get("/pricing/")
    assert "Shown At Once" in platform_client.get("/pricing/").content.decode()


def test_query_strings_are_not_kept(platform_client):
    platform_client.get("/pricing/?utm_source=x")
    DevicePlan.objects.filter(active=True).update(name="After The Query")

    assert "After The Query" in platform_client.get("/pricing/").content.decode()
    assert 'value="/pricing/"' in platform_client.get("/pricing/").content.decode()


def test_pages_set_no_cookie(platform_client):
    response = platform_client.get("/")

    assert not response.cookies
    assert "csrfmiddlewaretoken" not in response.content.decode()


def test_a_missing_document_is_not_kept(platform_client, settings, tmp_path):
    assert platform_client.get("/docs/later/").status_code == 404
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "later.md").write_text("# Later\n")
    settings.BASE_DIR = tmp_path

    assert platform_client.get("/docs/later/").status_code == 200
