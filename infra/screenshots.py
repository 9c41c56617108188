"""Screenshots of the product, taken from a running `make demo` (this script starts no server).

    make demo PORT=8000                           # in another terminal; wait for its credentials
    .venv/bin/python infra/screenshots.py         # --base-port 8000 --out platform/website/...
    .venv/bin/python infra/screenshots.py --docs  # the README's pictures, under docs/screenshots/

With --docs it shoots the main pages of each audience (resident: landing, registration, my
cameras; department: home, an incident with its canvass, the map; vendor: the department list
and a department) at 1366x900 and at 390x844 (a phone), as JPEG (quality 70 or lower, under
DOCS_MAX_BYTES each) under docs/screenshots/, which README.md's "What it looks like" links.

Chromium (Debian's, /usr/bin/chromium) through Playwright at 1280x800 signs in as the demo's
Concord resident and staff and saves four pages as WebP under
platform/website/static/website/screenshots/: the registration form, the resident's access
history, an incident's canvass map and the department's audit trail. Map tiles are replaced by
a plain tile (the demo machine need not reach OpenStreetMap), so every run looks the same.
"""

from __future__ import annotations

import argparse
import io
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, ViewportSize

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "platform" / "website" / "static" / "website" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
SIZE: ViewportSize = {"width": 1280, "height": 800}
# The demo's people (tenants.demo prints them) and its authenticator secret.
RESIDENT = ("sam@residents.example.org", "demo-concord-resident")
RESIDENT_ADDRESS = "402 Main St"
INVESTIGATOR = ("investigator@concord.example.org", "demo-concord-staff")
ADMINISTRATOR = ("admin@concord.example.org", "demo-concord-admin")
VENDOR = ("vendor@canvass.example.org", "demo-vendor-staff")
TOTP_SECRET = "CANVASSDEMOCANVASSDEMO234567ABCD"
MAX_BYTES = 150 * 1024
DOCS_OUT = ROOT / "docs" / "screenshots"
DOCS_SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1366, "height": 900},
    "phone": {"width": 390, "height": 844},
}
DOCS_MAX_BYTES = 300 * 1024


def totp_now() -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return str(format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // 30)))


def plain_tile() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 238, 232)).save(buffer, format="PNG")
    return buffer.getvalue()


def save_webp(png: bytes, path: Path) -> None:
    """WebP under MAX_BYTES: the best quality that fits."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for quality in (82, 75, 68, 60, 50, 40):
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=quality, method=6)
        if buffer.tell() <= MAX_BYTES:
            break
    path.write_bytes(buffer.getvalue())
    print(f"{path.relative_to(ROOT)}: {buffer.tell() // 1024} KiB (quality {quality})")


def save_jpeg(png: bytes, path: Path) -> None:
    """JPEG under DOCS_MAX_BYTES: quality 70, lower only if it does not fit."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for quality in (70, 60, 50, 40):
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True)
        if buffer.tell() <= DOCS_MAX_BYTES:
            break
    path.write_bytes(buffer.getvalue())
    print(f"{path.relative_to(ROOT)}: {buffer.tell() // 1024} KiB (quality {quality})")


def main() -> None:
    import django
    from playwright.sync_api import Page, sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-port", type=int, default=8000)
    parser.add_argument("--city", default="concord")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--docs", action="store_true", help="each audience's main pages at two sizes, for README"
    )
    arguments = parser.parse_args()
    django.setup()  # for allauth's one-time code
    base = f"http://{arguments.city}.localhost:{arguments.base_port}"
    platform_base = f"http://localhost:{arguments.base_port}"
    arguments.out = arguments.out or (DOCS_OUT if arguments.docs else OUT)
    arguments.out.mkdir(parents=True, exist_ok=True)
    tile = plain_tile()

    def sign_in(
        page: Page, email: str, password: str, staff: bool, host: str | None = None
    ) -> None:
        page.goto((host or base) + "/accounts/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", password)
        page.locator("main form button[type=submit]").click()
        if staff:
            page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
            page.fill("input[name=code]", totp_now())
            page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("networkidle")

    def open_incident(page: Page) -> None:
        """The demo seeds no incident: an investigator opens one (a burglary last evening)."""
        evening = (datetime.now() - timedelta(days=1)).strftime("%Y-%m-%dT")
        fields = {
            "case_number": "CPD-2026-0142",
            "address": "Union St S at Corban Ave",
            "latitude": "35.4080",
            "longitude": "-80.5810",
            "starts_at": evening + "21:00",
            "ends_at": evening + "23:00",
            "radius_m": "500",
        }
        page.select_option("select[name=kind]", "crime")
        page.select_option("select[name=category]", "burglary")
        for name, value in fields.items():
            page.fill(f"[name={name}]", value)
        page.locator("main form button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/department/incidents/\d+/"))

    def shot(page: Page, path: str, name: str) -> None:
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        save_webp(page.screenshot(), arguments.out / f"{name}.webp")

    def docs_shots(browser: Browser, tile: bytes) -> None:
        """Each audience's main pages at each of DOCS_SIZES: one signed-in tab per audience and
        size (the staff and vendor one-time codes: a new 30-second window for each use)."""
        used: set[tuple[str, int]] = set()

        def fresh_code_window(email: str) -> None:
            # allauth accepts a one-time code once per account: wait for the next window.
            while (email, int(time.time()) // 30) in used:
                time.sleep(31 - time.time() % 30)
            used.add((email, int(time.time()) // 30))

        for size_name, size in DOCS_SIZES.items():

            def tab(size: ViewportSize = size) -> Page:
                ctx = browser.new_context(viewport=size, locale="en-US")
                ctx.route(
                    re.compile(r"https://tile\.openstreetmap\.org/.*"),
                    lambda route: route.fulfill(body=tile, content_type="image/png"),
                )
                return ctx.new_page()

            def docs_shot(page: Page, url: str, name: str, size_name: str = size_name) -> None:
                page.goto(url)
                page.wait_for_load_state("networkidle")
                save_jpeg(page.screenshot(), arguments.out / f"{name}-{size_name}.jpg")

            resident = tab()
            docs_shot(resident, base + "/", "resident-landing")
            sign_in(resident, *RESIDENT, staff=False)
            docs_shot(resident, base + "/register/", "resident-register")
            docs_shot(resident, base + "/my/", "resident-my-cameras")

            staff = tab()
            fresh_code_window(INVESTIGATOR[0])
            sign_in(staff, *INVESTIGATOR, staff=True)
            docs_shot(staff, base + "/department/", "department-home")
            staff.goto(base + "/department/incidents/")
            links = staff.locator("main a[href*='/department/incidents/']")
            if links.count() == 0:
                open_incident(staff)
                incident = staff.url
            else:
                incident = base + (links.first.get_attribute("href") or "")
            docs_shot(staff, incident, "department-incident")
            docs_shot(staff, base + "/department/map/", "department-map")

            vendor = tab()
            fresh_code_window(VENDOR[0])
            sign_in(vendor, *VENDOR, staff=True, host=platform_base)
            docs_shot(vendor, platform_base + "/console/", "vendor-departments")
            department = vendor.locator("main table a[href*='/console/departments/']").first
            href = department.get_attribute("href") or ""
            docs_shot(vendor, platform_base + href, "vendor-department")
            for page in (resident, staff, vendor):
                page.context.close()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--host-resolver-rules=MAP *.localhost 127.0.0.1"],
        )

        def context() -> Page:
            ctx = browser.new_context(viewport=SIZE, locale="en-US")
            ctx.route(
                re.compile(r"https://tile\.openstreetmap\.org/.*"),
                lambda route: route.fulfill(body=tile, content_type="image/png"),
            )
            return ctx.new_page()

        if arguments.docs:
            docs_shots(browser, tile)
            browser.close()
            return

        investigator = context()
        sign_in(investigator, *INVESTIGATOR, staff=True)
        investigator.goto(base + "/department/incidents/")
        links = investigator.locator("main a[href*='/department/incidents/']")
        if links.count() == 0:
            open_incident(investigator)
        else:
            links.first.click()
        investigator.wait_for_load_state("networkidle")
        shot(investigator, investigator.url.removeprefix(base), "department-canvass")
        # The resident's history then has something to show: the investigator sees their
        # contact details for this case.
        row = investigator.locator("tr", has_text=RESIDENT_ADDRESS).first
        row.get_by_role("button", name="Reveal contact").click()
        investigator.wait_for_load_state("networkidle")

        resident = context()
        sign_in(resident, *RESIDENT, staff=False)
        shot(resident, "/register/", "resident-register")
        shot(resident, "/my/access/", "resident-access-history")

        # A new 30-second window: a one-time code is accepted once.
        time.sleep(31 - time.time() % 30)
        administrator = context()
        sign_in(administrator, *ADMINISTRATOR, staff=True)
        shot(administrator, "/department/audit/", "department-audit")
        browser.close()


if __name__ == "__main__":
    import os
    import sys

    sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
    main()
