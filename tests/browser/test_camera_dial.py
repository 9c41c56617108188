"""Cameras described the way people think, in Chromium: the compass dial sets a camera's view
direction by keyboard and by pointer, and its wedge turns on the site's map; "My cameras" and
the access page reflow at 320 CSS px and on a 390x844 phone, and axe-core finds nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django_tenants.utils import schema_context

from portal.registry.audit import Actor, audit_record
from portal.registry.models import AuditEntry, Camera, Site
from tests.browser.test_accessibility import audit, resident_with_a_site  # noqa: F401

CITY = "concord"
PHONE = {"width": 390, "height": 844}
NARROW = {"width": 320, "height": 720}


@dataclass
class Case:
    pk: int | None
    case_number: str
    category: str


def sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def the_site(email: str) -> Site:
    with schema_context(CITY):
        return Site.objects.get(participant__user__email=email)


def wedge(page, index: int):
    return page.locator(f'path.camera-wedge[data-camera="id_cameras-{index}-direction"]')


def turned(page, index: int, degrees: int, words: str) -> None:
    """The field, the dial and the wedge on the map all say `degrees`."""
    dial = page.locator(f'[data-input="id_cameras-{index}-direction"] [role=slider]')
    assert page.input_value(f"#id_cameras-{index}-direction") == str(degrees)
    assert dial.get_attribute("aria-valuenow") == str(degrees)
    assert dial.get_attribute("aria-valuetext") == words
    assert wedge(page, index).get_attribute("data-direction") == str(degrees)


def test_the_dial_turns_by_keyboard_and_by_click_and_the_wedge_follows(page, live_url):
    base = live_url.format(city=CITY)
    email, password = resident_with_a_site(CITY)
    sign_in(page, base, email, password)
    site = the_site(email)
    page.goto(base + f"/my/sites/{site.pk}/")

    dial = page.locator('[data-input="id_cameras-0-direction"] [role=slider]')
    assert dial.is_visible()
    turned(page, 0, 45, "northeast, 45 degrees")
    assert page.locator('[data-input="id_cameras-0-direction"] [data-dial-word]').inner_text() == (
        "northeast, 45 degrees"
    )
    shape = wedge(page, 0).get_attribute("d")

    dial.focus()
    page.keyboard.press("ArrowRight")
    turned(page, 0, 50, "northeast, 50 degrees")
    assert wedge(page, 0).get_attribute("d") != shape
    page.keyboard.press("Shift+ArrowRight")
    turned(page, 0, 65, "northeast, 65 degrees")
    page.keyboard.press("ArrowLeft")
    turned(page, 0, 60, "northeast, 60 degrees")
    page.keyboard.press("Home")
    turned(page, 0, 0, "north, 0 degrees")
    page.keyboard.press("ArrowLeft")
    turned(page, 0, 355, "north, 355 degrees")
    page.keyboard.press("PageDown")
    turned(page, 0, 340, "north, 340 degrees")

    # A click on the dial's east edge points the camera east.
    box = dial.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2)
    turned(page, 0, 90, "east, 90 degrees")
    # And a drag round to the south.
    page.mouse.move(box["x"] + box["width"] - 4, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 20, box["y"] + box["height"] - 4, steps=5)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 4, steps=5)
    page.mouse.up()
    turned(page, 0, 180, "south, 180 degrees")

    # Typing in the field turns the dial and the wedge as well.
    page.fill("#id_cameras-0-direction", "270")
    turned(page, 0, 270, "west, 270 degrees")

    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(lambda url: url.endswith("/my/"))
    with schema_context(CITY):
        assert Camera.objects.get(site=site).direction == 270
    assert page.get_by_text("“Porch” faces west and sees the street;").is_visible()


def test_cameras_added_on_the_registration_form_get_a_dial_and_a_wedge(page, live_url):
    base = live_url.format(city=CITY)
    email, password = resident_with_a_site(CITY)
    sign_in(page, base, email, password)
    page.goto(base + "/register/")

    dial = page.locator('[data-input="id_cameras-0-direction"] [role=slider]')
    assert dial.get_attribute("aria-valuetext") == "not set yet"
    # No pin yet: no wedge. Once the pin is placed, the camera's wedge appears at it.
    dial.focus()
    page.keyboard.press("ArrowRight")
    assert page.input_value("#id_cameras-0-direction") == "5"
    assert wedge(page, 0).count() == 0
    page.locator("#site-map").click()
    turned(page, 0, 5, "north, 5 degrees")

    page.get_by_role("button", name="Add another camera").click()
    added = page.locator('[data-input="id_cameras-1-direction"] [role=slider]')
    assert added.is_visible()
    assert added.get_attribute("aria-valuetext") == "not set yet"
    box = added.bounding_box()
    added.click(position={"x": 4, "y": box["height"] / 2}, timeout=5000)
    turned(page, 1, 270, "west, 270 degrees")
    added.focus()
    page.keyboard.press("ArrowDown")
    turned(page, 1, 265, "west, 265 degrees")
    assert page.locator("path.camera-wedge").count() == 2
    # The first camera's wedge did not move.
    turned(page, 0, 5, "north, 5 degrees")


def no_horizontal_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} is {width} px wide in a {viewport} px viewport"


def with_accesses(email: str) -> None:
    """Entries about the resident's site with long words, as the access page lists them."""
    site = the_site(email)
    staff = Actor("investigator.with.a.long.name@police.concord.example.gov", "investigator")
    with schema_context(CITY):
        audit_record(
            actor=staff,
            action=AuditEntry.Action.REVEAL,
            reason="Contact details revealed to ask for footage of the burglary on Union Street",
            site=site,
            case=Case(None, "CPD-2026-0000142-SUPPLEMENTAL", "burglary"),
            note="Neighbor's camera should cover the corner of Union and Corban",
        )


@pytest.mark.parametrize("viewport", [NARROW, PHONE], ids=["320", "390x844"])
def test_my_cameras_the_site_form_and_access_reflow_and_are_accessible(
    audit,  # noqa: F811
    live_url,
    viewport,
):
    base = live_url.format(city=CITY)
    email, password = resident_with_a_site(CITY)
    with_accesses(email)
    page = audit.page
    page.set_viewport_size(viewport)
    sign_in(page, base, email, password)
    site = the_site(email)
    for path in ("/my/", "/my/access/", "/register/", f"/my/sites/{site.pk}/"):
        audit(base + path)
        no_horizontal_scroll(page)
    # The "More" menu open, too.
    page.goto(base + "/my/")
    page.locator("details.more summary").first.click()
    audit()
    no_horizontal_scroll(page)
    # The access page's rows are stacked cards on a phone, each cell headed by its column.
    page.goto(base + "/my/access/")
    assert (
        page.locator("table.access td[data-label]").first.evaluate(
            "cell => getComputedStyle(cell).display"
        )
        == "block"
    )
    # Spanish runs longer: the same pages still fit, and the dial speaks it.
    page.get_by_role("button", name="Español").click()
    page.wait_for_function("document.documentElement.lang === 'es'")
    for path in ("/my/", "/my/access/", f"/my/sites/{site.pk}/"):
        audit(base + path)
        no_horizontal_scroll(page)
    slider = page.locator('[data-input="id_cameras-0-direction"] [role=slider]')
    assert slider.get_attribute("aria-valuetext") == "noreste, 45 grados"
