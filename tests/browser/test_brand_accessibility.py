"""axe-core finds no WCAG 2.1 A/AA violation on the branded error pages (issue 12): the 404
page in each city's layout and colours, in English and in Spanish where the city offers it, and
on the platform's host."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenants.models import Department
from tests.browser.conftest import CITIES
from tests.browser.test_accessibility import audit  # noqa: F401 (the fixture)


@pytest.mark.parametrize("city", CITIES)
def test_the_citys_404_page_is_accessible(audit, live_url, city):  # noqa: F811
    base = live_url.format(city=city)
    audit(base + "/no-such-page/")
    assert audit.page.locator("#canvass-error").count() == 1
    with schema_context("public"):
        languages = Department.objects.get(schema_name=city).branding.languages
    if "es" not in languages:
        return  # a city that does not offer Spanish answers in English
    audit.page.context.add_cookies([{"name": "django_language", "value": "es", "url": base}])
    audit(base + "/no-such-page/")
    assert audit.page.locator("html").get_attribute("lang") == "es"
    assert audit.page.locator("h1").inner_text() == "Página no encontrada"


def test_the_platforms_404_page_is_accessible(audit, live_url):  # noqa: F811
    base = live_url.replace("{city}.", "")
    audit(base + "/no-such-page/")
    assert audit.page.locator("#canvass-error").count() == 1
