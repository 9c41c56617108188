"""Browser tests: Debian's Chromium driven by Playwright against a live server on loopback.

The server is Django's LiveServerThread over the session's test database, not pytest-django's
live_server: its teardown flushes the public schema's tables, which would delete the session's
departments. Data written through the browser is therefore committed, and each test removes
what it made (accounts on the browser.example.org domain, opt-out records).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
EMAIL_DOMAIN = "browser.example.org"
CITIES = ("concord", "carrollton", "littlerock")


def _missing() -> str | None:
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        return f"Chromium is not installed ({CHROMIUM}); run infra/browser-deps.sh"
    if not AXE.exists():
        return "axe-core is not installed (node_modules); run infra/browser-deps.sh"
    return None


@pytest.fixture(scope="session")
def live_url(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[str]:
    """http://{city}.localhost:{port} served by a thread of this process."""
    problem = _missing()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    # Static files straight from the apps' folders, as StaticLiveServerTestCase serves them.
    server = LiveServerThread("127.0.0.1", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    yield f"http://{{city}}.localhost:{server.port}"
    server.terminate()


@pytest.fixture(scope="session")
def browser(live_url: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's ORM calls made by the
    # test itself are still synchronous, as Django's docs allow for this case; only while the
    # browser runs, so that the rest of the suite keeps Django's guard.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                # *.localhost reaches the live server whatever the system resolver does.
                "--host-resolver-rules=MAP *.localhost 127.0.0.1",
            ],
        )
        yield chromium
        chromium.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def committed_db(django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    """Database access for the test and the server thread, cleaned up afterwards."""
    from django.core import mail
    from django.db import connections
    from django_tenants.utils import schema_context

    from portal.registry.models import OptOut
    from tests.conftest import assert_test_database

    with django_db_blocker.unblock():
        assert_test_database()
        marks = {}
        for city in CITIES:
            with schema_context(city):
                marks[city] = OptOut.objects.order_by("-pk").values_list("pk", flat=True).first()
        mail.outbox = []
        yield
        from django.contrib.auth import get_user_model

        for city in CITIES:
            with schema_context(city):
                get_user_model().objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()
                OptOut.objects.filter(pk__gt=marks[city] or 0).delete()
        # Under Playwright's event loop Django hands this test a connection of its own context;
        # close it, or it outlives the test database.
        connections.close_all()


@pytest.fixture
def page(browser: object, committed_db: None) -> Iterator[object]:
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


# The two sizes every audience's main journey is walked at (issue 12): a desk and a phone.
JOURNEY_SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def assert_fits(page: object) -> None:
    """The page scrolls only up and down at the window's width (WCAG 1.4.10, reflow)."""
    width = page.evaluate(  # type: ignore[attr-defined]
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert width[0] <= width[1], f"{page.url} is {width[0]} px wide in a {width[1]} px window"  # type: ignore[attr-defined]
