"""Every page of every audience at 320 CSS px wide: no horizontal scrolling (WCAG 1.4.10
reflow) and no WCAG 2.1 A/AA violation that axe-core finds; resident pages in English and
Spanish (issue 12, "Required").

The pages are listed by URL name in PAGES: a new page is one line. The people and records the
pages need (a resident with a site in Concord, an administrator and an incident in Little Rock,
the demo's vendor) are made once for the module; the vendor's and the staff member's one-time
codes are used once each.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from tests.browser.conftest import AXE
from tests.conftest import TOTP_SECRET, totp_now

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTH, HEIGHT = 320, 800
RESIDENT_CITY, STAFF_CITY = "concord", "littlerock"
RESIDENT_EMAIL = "sweep.resident@sweep.example.org"
STAFF_EMAIL = "sweep.administrator@littlerock.example.org"
PASSWORD = "a-sweeping-passphrase"
TENANT_URLS, PUBLIC_URLS = "canvass.urls_tenant", "canvass.urls_public"


@dataclass(frozen=True)
class Page:
    """One page to check: its URL name (or a fixed path), who looks at it, the records its
    URL needs (keys of World.ids) and, while another helper of issue 12 owns its template, that
    template's name (a failure there is an expected failure until their work is merged)."""

    label: str
    # resident; visitor (signed out, the resident city); staff; staff-pending (password given,
    # one-time code not yet); vendor; platform-visitor (signed out, the platform's host)
    audience: str
    url_name: str = ""
    path: str = ""
    needs: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en", "es")
    expect_status: int = 200


PAGES: list[Page] = [
    # Residents (English and Spanish).
    Page("landing", "visitor", "portal:landing"),
    Page("register", "resident", "portal:site_new"),
    Page("my cameras", "resident", "portal:manage"),
    Page("site edit", "resident", "portal:site_edit", needs=("site",)),
    Page("access history", "resident", "portal:access"),
    Page("terms", "resident", "portal:terms"),
    Page("leave", "resident", "portal:leave"),
    Page("verify link", "visitor", "portal:verify", needs=("token",)),
    Page("sign in", "visitor", "account_login"),
    Page("sign up", "visitor", "account_signup"),
    Page("password reset", "visitor", "account_reset_password"),
    Page("password reset sent", "visitor", "account_reset_password_done"),
    Page("email addresses", "resident", "account_email"),
    Page("password change", "resident", "account_change_password"),
    Page("two-factor settings", "resident", "mfa_index"),
    Page("authenticator setup", "resident", "mfa_activate_totp"),
    Page("sign out", "resident", "account_logout"),
    Page("verification sent", "visitor", "account_email_verification_sent"),
    Page("password reset link expired", "visitor", path="/accounts/password/reset/key/0-bad/"),
    Page("two-factor code", "staff-pending", "mfa_authenticate", languages=("en",)),
    Page("staff two-factor settings", "staff", "mfa_index", languages=("en",)),
    Page("staff recovery codes", "staff", "mfa_view_recovery_codes", languages=("en",)),
    Page("403", "resident", "department:home", expect_status=403),
    Page("404", "visitor", path="/no-such-page/", expect_status=404),
    Page("500", "visitor", path="/__server-error__/", expect_status=500),
    # The department's console (English; staff pages are not translated).
    Page("department home", "staff", "department:home", languages=("en",)),
    Page(
        "incidents",
        "staff",
        "department:incidents",
        languages=("en",),
    ),
    Page(
        "an incident",
        "staff",
        "department:incident",
        needs=("incident",),
        languages=("en",),
    ),
    Page("map", "staff", "department:map", languages=("en",)),
    Page("audit", "staff", "department:audit", languages=("en",)),
    Page("staff", "staff", "department:staff", languages=("en",)),
    Page(
        "settings",
        "staff",
        "department:settings",
        languages=("en",),
    ),
    Page("import", "staff", "department:import", languages=("en",)),
    # The vendor's console (English only).
    Page("departments", "vendor", "console:departments", languages=("en",)),
    Page("a department", "vendor", "console:department", needs=("department",), languages=("en",)),
    Page(
        "a department's edit",
        "vendor",
        "console:department_edit",
        needs=("department",),
        languages=("en",),
    ),
    Page("program requests", "vendor", "console:program_requests", languages=("en",)),
    Page("vendor sign in", "platform-visitor", "account_login", languages=("en",)),
]


@dataclass
class World:
    ids: dict[str, object] = field(default_factory=dict)


def _resident_with_a_site() -> dict[str, object]:
    from portal.registry.services import participant_create, site_register, verification_token
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name=RESIDENT_CITY)
    program = department.program
    with schema_context(RESIDENT_CITY):
        user = get_user_model().objects.create_user(
            username=RESIDENT_EMAIL, email=RESIDENT_EMAIL, password=PASSWORD
        )
        EmailAddress.objects.create(user=user, email=RESIDENT_EMAIL, primary=True, verified=True)
        participant = participant_create(user=user)
        site = site_register(
            participant=participant,
            program=program,
            site={
                "kind": "business",
                "address": "1200 Extraordinarily Long Boulevard Northwest, Suite 4500",
                "latitude": program.center_latitude,
                "longitude": program.center_longitude,
                "contact_name": "Maximiliano Reflow-Sweeperson",
                "contact_phone": "+17045550162",
                "contact_email": RESIDENT_EMAIL,
                "contact_method": "email",
                "contact_hours": "Weekdays after six in the evening",
            },
            cameras=[
                {
                    "label": "Front entrance, above the loading dock",
                    "direction": 135,
                    "sees": ["street", "sidewalk", "entrance"],
                    "mount": "wall",
                    "recording": "motion",
                    "retention_days": 30,
                    "night_vision": True,
                }
            ],
            language="en",
        )
        return {"site": site.pk, "token": verification_token(participant)}


def _staff_with_an_incident() -> dict[str, object]:
    from portal.department.services import incident_open
    from portal.registry.audit import Actor
    from portal.registry.models import StaffMember
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name=STAFF_CITY)
    program = department.program
    with tenant_context(department):
        users = get_user_model().objects
        user = users.filter(email=STAFF_EMAIL).first()
        if user is None:
            user = users.create_user(username=STAFF_EMAIL, email=STAFF_EMAIL, password=PASSWORD)
            EmailAddress.objects.create(user=user, email=STAFF_EMAIL, verified=True, primary=True)
            TOTP.activate(user, TOTP_SECRET)
            RecoveryCodes.activate(user)  # so that the recovery codes page has some to show
        staff, _ = StaffMember.objects.get_or_create(
            user=user, defaults={"role": StaffMember.Role.ADMINISTRATOR}
        )
        now = timezone.now().replace(second=0, microsecond=0)
        incident = incident_open(
            actor=Actor.of_staff(staff, "127.0.0.1"),
            kind="crime",
            category="burglary",
            case_number="SWEEP-2026-000123456",
            address="Intersection of a long street name and another long street name",
            latitude=program.center_latitude,
            longitude=program.center_longitude,
            starts_at=now - timedelta(hours=3),
            ends_at=now - timedelta(hours=1),
            radius_m=400,
        )
    return {"incident": incident.pk, "department": department.pk}


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[World]:
    from tests.conftest import assert_test_database

    with django_db_blocker.unblock():
        assert_test_database()
        made = World()
        made.ids |= _resident_with_a_site()
        made.ids |= _staff_with_an_incident()
    yield made
    with django_db_blocker.unblock(), schema_context(RESIDENT_CITY):
        get_user_model().objects.filter(email=RESIDENT_EMAIL).delete()


@pytest.fixture
def database(django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    """The live server's thread reads the database while a test runs."""
    from django.db import connections

    with django_db_blocker.unblock():
        yield
        connections.close_all()


def _plain_tile() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (236, 238, 232)).save(buffer, format="PNG")
    return buffer.getvalue()


def _server_error_page(language: str) -> str:
    """The 500 page exactly as a visitor gets it: a real request through the whole stack to the
    city's landing view, made to fail (no view of the app fails on purpose). The query string
    keeps it from the kept landing page (tenants.page_cache)."""
    from unittest import mock

    from django.test import Client

    import portal.residents.views

    client = Client(raise_request_exception=False, HTTP_HOST=f"{RESIDENT_CITY}.localhost")
    client.cookies["django_language"] = language
    with mock.patch.object(
        portal.residents.views, "plans_offered", side_effect=RuntimeError("the sweep's 500")
    ):
        response = client.get("/", {"sweep": "500"})
    assert response.status_code == 500
    return response.content.decode()


@pytest.fixture(scope="module")
def tabs(browser, live_url, world, django_db_blocker) -> Iterator[Callable[[str, str], object]]:
    """tabs(audience, language): a browser tab at 320x800, signed in as the audience, kept for
    the module (each one-time code is used once)."""
    made: dict[tuple[str, str], object] = {}
    tile = _plain_tile()

    def tab(audience: str, language: str) -> object:
        if (audience, language) in made:
            return made[audience, language]
        context = browser.new_context(
            viewport={"width": WIDTH, "height": HEIGHT},
            locale="es-US" if language == "es" else "en-US",
            # axe-core is injected as a script, which the Content-Security-Policy forbids.
            bypass_csp=True,
        )
        context.set_default_timeout(15_000)
        context.route(
            re.compile(r"https://[a-z.]*tile\.openstreetmap\.org/.*"),
            lambda route: route.fulfill(body=tile, content_type="image/png"),
        )
        base = base_url(live_url, audience)
        context.add_cookies([{"name": "django_language", "value": language, "url": base}])
        page = context.new_page()
        with django_db_blocker.unblock():
            if audience == "resident":
                _password_sign_in(page, base, RESIDENT_EMAIL)
            elif audience in ("staff", "staff-pending"):
                _password_sign_in(page, base, STAFF_EMAIL)
                if audience == "staff":
                    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
                    page.fill("input[name=code]", totp_now())
                    page.locator("main form button[type=submit]").click()
                    page.wait_for_load_state("networkidle")
            elif audience == "vendor":
                from tenants.demo import VENDOR_EMAIL, VENDOR_PASSWORD

                page.goto(base + "/accounts/login/")
                page.fill("input[name=login]", VENDOR_EMAIL)
                page.fill("input[name=password]", VENDOR_PASSWORD)
                page.locator("main form button[type=submit]").click()
                page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
                page.fill("input[name=code]", totp_now())
                page.locator("main form button[type=submit]").click()
                page.wait_for_load_state("networkidle")
        made[audience, language] = page
        return page

    yield tab
    for page in made.values():
        page.context.close()


def base_url(live_url: str, audience: str) -> str:
    if audience in ("vendor", "platform-visitor"):
        return live_url.replace("{city}.", "")
    city = STAFF_CITY if audience in ("staff", "staff-pending") else RESIDENT_CITY
    return live_url.format(city=city)


def _password_sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("networkidle")


def page_path(case: Page, world: World) -> str:
    if case.path:
        return case.path
    urlconf = PUBLIC_URLS if case.audience in ("vendor", "platform-visitor") else TENANT_URLS
    return reverse(case.url_name, urlconf=urlconf, args=[world.ids[need] for need in case.needs])


REFLOW = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const element of document.querySelectorAll('body *')) {
    const box = element.getBoundingClientRect();
    if (box.width && box.right > width + 1 && getComputedStyle(element).position !== 'fixed') {
      const name = element.tagName.toLowerCase() + (element.id ? '#' + element.id : '')
        + (element.className && typeof element.className === 'string'
           ? '.' + element.className.trim().split(/\\s+/).join('.') : '');
      wide.push(name + ' to ' + Math.round(box.right) + 'px');
    }
  }
  return {scroll: document.documentElement.scrollWidth, width, wide: wide.slice(0, 6)};
}"""


def problems_on(page) -> list[str]:
    """What fails at this width: horizontal scrolling, then axe-core's violations."""
    problems = []
    reflow = page.evaluate(REFLOW)
    if reflow["scroll"] > reflow["width"]:
        problems.append(
            f"scrolls sideways: {reflow['scroll']} px wide at {reflow['width']} "
            f"(widest: {', '.join(reflow['wide'])})"
        )
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    problems += [
        f"axe {violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(", ".join(node["target"]) for node in violation["nodes"][:4])
        for violation in result["violations"]
    ]
    return problems


CASES = [
    pytest.param(case, language, id=f"{case.label}-{language}")
    for case in PAGES
    for language in case.languages
]


@pytest.mark.parametrize(("case", "language"), CASES)
def test_the_page_reflows_at_320_px_and_axe_finds_nothing(
    tabs, live_url, world, database, case: Page, language: str
):
    page = tabs(case.audience, language)
    if case.audience in ("visitor", "platform-visitor"):
        # A signed-out visitor: a fresh tab of its own language, without a session.
        page.context.clear_cookies()
        base = base_url(live_url, case.audience)
        page.context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    base = base_url(live_url, case.audience)
    url = base + page_path(case, world)
    if case.expect_status == 500:
        body = _server_error_page(language)
        page.route(
            url, lambda route: route.fulfill(status=500, body=body, content_type="text/html")
        )
    response = page.goto(url)
    page.wait_for_load_state("networkidle")
    assert response is not None
    assert response.status == case.expect_status, f"{url} answered {response.status}"
    assert page.locator("html").get_attribute("lang") == language
    problems = problems_on(page)
    assert not problems, f"{case.label} ({language}) at {url}\n" + "\n".join(problems)


# Each audience's main journey, also at a desk and on a phone (the sizes of the README's
# screenshots, infra/screenshots.py --docs).
MAIN = (
    "landing",
    "register",
    "my cameras",
    "department home",
    "an incident",
    "map",
    "departments",
    "a department",
)
SIZES = {"desk": (1366, 900), "phone": (390, 844)}


@pytest.mark.parametrize(
    ("case", "size"),
    [
        pytest.param(case, size, id=f"{case.label}-{size}")
        for case in PAGES
        if case.label in MAIN
        for size in SIZES
    ],
)
def test_the_main_pages_fit_a_desk_and_a_phone(tabs, live_url, world, database, case, size):
    page = tabs(case.audience, "en")
    width, height = SIZES[size]
    page.set_viewport_size({"width": width, "height": height})
    try:
        response = page.goto(base_url(live_url, case.audience) + page_path(case, world))
        page.wait_for_load_state("networkidle")
        assert response is not None and response.status == case.expect_status
        reflow = page.evaluate(REFLOW)
    finally:
        page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    problem = (
        f"scrolls sideways: {reflow['scroll']} px wide at {reflow['width']} "
        f"(widest: {', '.join(reflow['wide'])})"
    )
    assert reflow["scroll"] <= reflow["width"], f"{case.label} at {size}: {problem}"
