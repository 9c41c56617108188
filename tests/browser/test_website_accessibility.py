"""axe-core finds no WCAG 2.1 A/AA violation on the platform site's pages, in English and in
Spanish (the platform's host is the live server's bare localhost, PLATFORM_DOMAINS)."""

from __future__ import annotations

import pytest

from tests.browser.test_accessibility import audit  # noqa: F401 (the fixture)

PAGES = ("/", "/pricing/", "/security/", "/accessibility/", "/docs/", "/docs/operations/")


@pytest.fixture
def platform_url(live_url: str) -> str:
    return live_url.replace("{city}.", "")


@pytest.fixture(autouse=True)
def _no_kept_pages():
    from tenants.page_cache import pages_clear

    pages_clear()


@pytest.fixture(autouse=True)
def device_plan(committed_db):
    """A plan on sale, so that the pricing page shows its table (removed afterwards)."""
    from billing.models import DevicePlan

    plan = DevicePlan.objects.create(
        slug="axe-hub",
        name="Axe Hub 4",
        cameras_supported=4,
        storage_gb=1000,
        device_price=350_00,
        yearly_price=150_00,
        description_en="Four cameras.",
        description_es="Cuatro cámaras.",
    )
    yield plan
    plan.delete()


def test_the_platform_site_is_accessible_in_english(audit, platform_url):  # noqa: F811
    for path in PAGES:
        audit(platform_url + path)
        assert audit.page.locator("html").get_attribute("lang") == "en"
    audit.page.goto(platform_url + "/pricing/")
    assert audit.page.get_by_role("cell", name="$150.00").is_visible()


def test_the_platform_site_is_accessible_in_spanish(audit, platform_url):  # noqa: F811
    audit.page.goto(platform_url + "/pricing/")
    audit.page.get_by_role("button", name="Español").click()
    audit.page.wait_for_url(platform_url + "/pricing/")
    assert audit.page.get_by_role("heading", name="Licencia de la plataforma").is_visible()
    for path in PAGES:
        audit(platform_url + path)
        assert audit.page.locator("html").get_attribute("lang") == "es"
