"""The program request form in Chromium: axe-core finds no WCAG 2.1 A/AA violation (English,
Spanish, and with errors), and the portal address is checked while it is typed, by the static
script under the Content-Security-Policy, into the live region next to the field."""

from __future__ import annotations

import pytest
from onboarding.models import ProgramRequest

from tests.browser.conftest import AXE

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def platform_url(live_url: str) -> str:
    return live_url.replace("{city}.", "")


def axe_problems(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    return [
        f"{violation['id']}: {violation['help']} at "
        + "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in result["violations"]
    ]


@pytest.mark.parametrize("locale", ["en-US", "es-ES"])
def test_the_form_and_its_errors_pass_axe(browser, committed_db, platform_url, locale):
    # axe's own script is inline: only this context bypasses the policy.
    context = browser.new_context(bypass_csp=True, locale=locale)
    page = context.new_page()
    try:
        page.goto(f"{platform_url}/request/")
        assert not axe_problems(page)
        page.fill("#id_agency_name", "X")
        page.fill("#id_contact_phone", "12")
        page.click(".request-form button[type=submit]")
        summary = page.locator("#error-summary")
        summary.wait_for()
        # The summary takes focus, and links to each field.
        assert page.evaluate("document.activeElement.id") == "error-summary"
        assert summary.locator("a[href='#id_contact_phone']").count() == 1
        assert not axe_problems(page)
    finally:
        context.close()
    assert not ProgramRequest.objects.exists()


def test_the_address_is_checked_while_typing(browser, committed_db, platform_url):
    context = browser.new_context(locale="en-US")  # the real policy: no inline script runs
    page = context.new_page()
    try:
        page.goto(f"{platform_url}/request/")
        status = page.locator("#subdomain-status")
        page.locator("#id_subdomain").press_sequentially("concord", delay=20)
        status.filter(has_text="already a department's portal").wait_for()
        page.fill("#id_subdomain", "")
        page.locator("#id_subdomain").press_sequentially("new-town", delay=20)
        status.filter(has_text="“new-town” is available.").wait_for()
        assert page.locator(".request-subdomain-preview").inner_text().startswith("new-town.")
        page.fill("#id_subdomain", "www")
        status.filter(has_text="is reserved").wait_for()
    finally:
        context.close()


def test_the_address_is_checked_in_spanish(browser, committed_db, platform_url):
    context = browser.new_context(locale="es-ES")
    page = context.new_page()
    try:
        page.goto(f"{platform_url}/request/")
        page.fill("#id_subdomain", "concord")
        page.locator("#subdomain-status").filter(has_text="ya es el portal").wait_for()
    finally:
        context.close()
