"""A resident's self-service pages on a phone (390 by 844): the account page, the download of
their data, the notices and requests they received, the privacy and contact pages; in
English and Spanish, with no horizontal scrolling at 320 CSS px (WCAG 1.4.10) and no axe-core
violation (WCAG 2.1 A/AA)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import Incident, Notification, NotificationRecipient
from tests.browser.conftest import AXE
from tests.browser.test_accessibility import TAGS, resident_with_a_site

PAGES = ("/my/account/", "/my/requests/", "/privacy/", "/contact/")


@pytest.fixture
def resident(committed_db: None) -> Iterator[tuple[str, str]]:
    """Ada in Concord, with a site and a footage request she received; the request's rows are
    removed before the accounts are (they hold the account by a protected key)."""
    email, password = resident_with_a_site("concord")
    with schema_context("concord"):
        from portal.registry.models import Site

        site = Site.objects.select_related("participant__user").get(participant__user__email=email)
        user = site.participant.user
        now = timezone.now()
        incident = Incident.objects.create(
            kind=Incident.Kind.CRIME,
            case_number="CPD-BROWSER-1",
            category="burglary",
            address="1 Audit Way",
            latitude=site.latitude,
            longitude=site.longitude,
            starts_at=now - timedelta(hours=3),
            ends_at=now - timedelta(hours=2),
            radius_m=300,
            opened_by=user,
        )
        notification = Notification.objects.create(
            incident=incident,
            kind=Notification.Kind.FOOTAGE_REQUEST,
            site=site,
            message="The porch camera, between the times below, please.",
            created_by=user,
        )
        NotificationRecipient.objects.create(
            notification=notification, participant=site.participant, sent_at=now
        )
    try:
        yield email, password
    finally:
        with schema_context("concord"):
            NotificationRecipient.objects.filter(notification=notification).delete()
            notification.delete()
            incident.delete()


@pytest.fixture
def phone(browser: object, committed_db: None) -> Iterator[object]:
    # axe-core is injected as an inline script, which the CSP forbids: this context bypasses it.
    context = browser.new_context(
        bypass_csp=True, locale="en-US", viewport={"width": 390, "height": 844}
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def axe_problems(page: object) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    return [
        f"{page.url} {violation['id']}: {violation['help']} at "
        + "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in result["violations"]
    ]


def overflow_at(page: object, width: int) -> int:
    page.set_viewport_size({"width": width, "height": 844})
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def sign_in(page: object, base: str, email: str, password: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(base + "/my/")


def check_pages(page: object, base: str) -> None:
    problems: list[str] = []
    for path in PAGES:
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(base + path)
        problems += axe_problems(page)
        for width in (390, 320):
            extra = overflow_at(page, width)
            if extra > 0:
                wide = page.evaluate(
                    "() => [...document.querySelectorAll('body *')].filter(e => "
                    "e.getBoundingClientRect().right > document.documentElement.clientWidth)"
                    ".slice(-3).map(e => e.tagName + '.' + e.className + ' ' + "
                    "(e.textContent || '').trim().slice(0, 40))"
                )
                problems.append(f"{path} scrolls sideways by {extra} px at {width} px: {wide}")
    assert not problems, "\n".join(problems)


def test_the_self_service_pages_on_a_phone(phone, live_url, resident):
    base = live_url.format(city="concord")
    email, password = resident
    sign_in(phone, base, email, password)
    # The header's link to the account, the footer's to privacy and contact.
    phone.get_by_role("link", name="My account").click()
    phone.wait_for_url(base + "/my/account/")
    assert phone.get_by_role("heading", name="My account", level=1).is_visible()
    check_pages(phone, base)
    phone.goto(base + "/my/requests/")
    assert phone.get_by_role("heading", name="Footage request, case CPD-BROWSER-1").is_visible()
    phone.goto(base + "/")
    phone.get_by_role("link", name="Privacy and terms").click()
    phone.wait_for_url(base + "/privacy/")
    phone.get_by_role("link", name="Contact", exact=True).click()
    phone.wait_for_url(base + "/contact/")


def test_the_data_download_link_hands_over_the_owners_records(phone, live_url, resident):
    base = live_url.format(city="concord")
    email, password = resident
    sign_in(phone, base, email, password)
    phone.goto(base + "/my/account/")
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Download my data (JSON)").click()
    data = json.loads(Path(download.value.path()).read_text())
    assert data["participant"][0]["account_email"] == email
    assert data["requests"][0]["case_number"] == "CPD-BROWSER-1"
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Download my data (CSV, for a spreadsheet)").click()
    assert Path(download.value.path()).read_text().startswith("section,record,field,value")


def test_the_self_service_pages_in_spanish(phone, live_url, resident):
    base = live_url.format(city="concord")
    email, password = resident
    sign_in(phone, base, email, password)
    phone.get_by_role("button", name="Español").click()
    phone.goto(base + "/my/account/")
    assert phone.locator("html").get_attribute("lang") == "es"
    assert phone.get_by_role("heading", name="Mi cuenta", level=1).is_visible()
    check_pages(phone, base)
