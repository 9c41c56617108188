"""The public transparency page: axe-core finds no WCAG 2.1 A/AA violation, in English and
Spanish, in every city's colours; on a phone (390 px) and at 320 px CSS pixels (WCAG 1.4.10
reflow) the page never scrolls sideways: wide tables scroll inside their own focusable box."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.transparency.models import ChainCheck, MonthComputed, MonthlyFigure, Policy
from portal.transparency.services import months_until
from tenants.models import Department
from tests.browser.conftest import CITIES
from tests.browser.test_accessibility import audit  # noqa: F401 (the fixture)

TRANSPARENCY_MODELS = (MonthlyFigure, MonthComputed, ChainCheck, Policy)


@pytest.fixture
def figures(committed_db: None) -> Iterator[None]:
    """A year of figures in every city (small ones among them, to be withheld), a published
    policy and a chain check; removed afterwards (the database is shared with the server)."""
    now = timezone.now()
    for city in CITIES:
        department = Department.objects.get(schema_name=city)
        months: list[date] = [month.first_day for month in months_until(now, department.zone)]
        with schema_context(city):
            rows = []
            for index, month in enumerate(months):
                for category, value in (("burglary", 3 + index), ("robbery", 7), ("theft", 20)):
                    for metric in ("reveals", "footage_requests", "area_notices"):
                        rows.append(
                            MonthlyFigure(
                                month=month, metric=metric, category=category, value=value
                            )
                        )
                rows.append(
                    MonthlyFigure(
                        month=month, metric="owners_reached", category="robbery", value=40
                    )
                )
                rows.append(
                    MonthlyFigure(
                        month=month, metric="owners_answered", category="robbery", value=12
                    )
                )
                rows.append(
                    MonthlyFigure(
                        month=month,
                        metric="live_views_emergency",
                        category="active_threat",
                        value=6,
                    )
                )
                rows.append(
                    MonthlyFigure(
                        month=month,
                        metric="live_seconds_emergency",
                        category="active_threat",
                        value=3600,
                    )
                )
                rows.append(MonthlyFigure(month=month, metric="opt_outs", value=index))
                MonthComputed.objects.create(month=month, computed_at=now)
            for index, zip_code in enumerate(["28025", "28026", "28027", "28081", "28083"]):
                rows.append(
                    MonthlyFigure(
                        month=months[-1], metric="sites", area=zip_code, value=2 + 9 * index
                    )
                )
            MonthlyFigure.objects.bulk_create(rows)
            Policy.objects.create(
                policy_text="Cameras are never watched live except in an emergency. " * 8,
                retention_text="Lapsed registrations are purged after 90 days.",
                funding_text="General fund, $20,000 a year.",
            )
            ChainCheck.objects.create(checked_at=now, intact=True, entries=1_000_000)
    yield
    for city in CITIES:
        with schema_context(city):
            for model in TRANSPARENCY_MODELS:
                model.objects.all().delete()


@pytest.mark.parametrize("city", CITIES)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_transparency_page_is_accessible(audit, figures, live_url, city, language):  # noqa: F811
    page = audit.page
    url = live_url.format(city=city)
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": url}]
    )
    audit(url + "/transparency/")
    branding = Department.objects.select_related("branding").get(schema_name=city).branding
    # A city that does not offer the language shows its own default.
    expected = language if language in branding.languages else branding.default_language
    assert page.locator("html").get_attribute("lang") == expected
    assert page.locator("table.figures").count() > 10
    assert page.locator("svg[role=img]").count() >= 5
    # On a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    audit()


@pytest.mark.parametrize("width", [390, 320])
def test_the_page_does_not_scroll_sideways_on_a_phone(audit, figures, live_url, width):  # noqa: F811
    page = audit.page
    page.set_viewport_size({"width": width, "height": 800})
    page.goto(live_url.format(city="concord") + "/transparency/")
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{overflow} px of horizontal scroll at {width} px"
    # Text is at least 12 px and each table's box can be reached by keyboard to scroll it.
    assert page.evaluate(
        "() => [...document.querySelectorAll('.table-scroll')].every(e => e.tabIndex === 0)"
    )
    font = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    assert font >= 16
