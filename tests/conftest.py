"""Shared test setup: a real PostgreSQL test database, the demo departments provisioned once per
session (cloned from the template schema), personas, and HTTP clients that send a city's host."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.utils import translation
from django_tenants.utils import schema_context

# The local S3 server (moto, once per session) and STORAGES pointed at it, for any test.
from tests.storage.s3 import s3_server, s3_storages  # noqa: F401


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Hashing with PBKDF2's million rounds would dominate the suite's time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def pytest_unconfigure(config: pytest.Config) -> None:
    from django.conf import settings

    # Uploads (logos, evidence) went to the settings' throwaway folder, never into .data.
    if settings.FILES_ROOT.name.startswith("canvass-test-files-"):
        shutil.rmtree(settings.FILES_ROOT, ignore_errors=True)


@dataclass(frozen=True)
class Persona:
    email: str
    password: str
    schema_name: str


@pytest.fixture(scope="session")
def django_db_setup(
    django_test_environment: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[None]:
    """The test database, created and migrated once per session whichever tests run (also for
    tests that commit, such as the browser and queue tests), with the demo departments
    provisioned by cloning. As in production, the database owner creates and migrates it and
    the tests connect as the application's role, which owns nothing (tenants.database)."""
    from tenants.database import throwaway_database
    from tenants.demo import (
        DEMO_CITIES,
        VENDOR_EMAIL,
        VENDOR_PASSWORD,
        demo_city_provision,
        vendor_billing_grant,
    )
    from tenants.services import platform_site_ensure, staff_account_ensure

    database = throwaway_database()
    with django_db_blocker.unblock():
        database.__enter__()
        platform = platform_site_ensure()
        with schema_context(platform.schema_name):
            from allauth.mfa.totp.internal.auth import TOTP

            vendor, _created = staff_account_ensure(email=VENDOR_EMAIL, password=VENDOR_PASSWORD)
            TOTP.activate(vendor, TOTP_SECRET)
            vendor_billing_grant(vendor)
        for city in DEMO_CITIES:
            demo_city_provision(city)
    yield
    with django_db_blocker.unblock():
        database.__exit__(None, None, None)


def assert_test_database() -> None:
    """Tests that commit refuse to run anywhere but in the test database."""
    name = connection.settings_dict["NAME"]
    assert name.startswith("test_"), f"refusing to write to the database {name!r}"


@pytest.fixture(autouse=True)
def _fresh_state_for_each_test() -> Iterator[None]:
    """Back to the public schema, empty caches (allauth's rate limits live in the default one,
    pages' kept fragments in template_fragments) and no department kept from another test
    (tenants.middleware.department_for_host), nor a city's bound of sites near a point
    (portal.department.selectors.sites_near_bound)."""
    from django.core.cache import cache, caches

    from portal.department.selectors import sites_near_bound_forget
    from tenants.middleware import hosts_reset

    cache.clear()
    caches["template_fragments"].clear()
    hosts_reset()
    sites_near_bound_forget()
    # A request made in Spanish leaves Spanish active in this thread (the test client runs the
    # view here): every test starts in the default language.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    connection.set_schema_to_public()


@pytest.fixture
def vendor() -> Persona:
    from tenants.demo import VENDOR_EMAIL, VENDOR_PASSWORD

    return Persona(VENDOR_EMAIL, VENDOR_PASSWORD, "public")


def _administrator(subdomain: str) -> Persona:
    from tenants.demo import DEMO_CITIES, demo_administrator_email, demo_administrator_password

    city = next(city for city in DEMO_CITIES if city.subdomain == subdomain)
    return Persona(demo_administrator_email(city), demo_administrator_password(city), subdomain)


@pytest.fixture
def concord_admin() -> Persona:
    return _administrator("concord")


@pytest.fixture
def carrollton_admin() -> Persona:
    return _administrator("carrollton")


@pytest.fixture
def littlerock_admin() -> Persona:
    return _administrator("littlerock")


@pytest.fixture
def host_client(db: None) -> Callable[[str], Client]:
    """host_client("concord.localhost") is a test client whose requests carry that Host."""

    def make(host: str) -> Client:
        return Client(HTTP_HOST=host)

    return make


@pytest.fixture
def platform_client(host_client: Callable[[str], Client]) -> Client:
    return host_client("localhost")


@pytest.fixture
def concord_client(host_client: Callable[[str], Client]) -> Client:
    return host_client("concord.localhost")


@pytest.fixture
def carrollton_client(host_client: Callable[[str], Client]) -> Client:
    return host_client("carrollton.localhost")


@pytest.fixture
def littlerock_client(host_client: Callable[[str], Client]) -> Client:
    return host_client("littlerock.localhost")


@pytest.fixture
def sign_in() -> Callable[[Client, Persona], HttpResponse]:
    """sign_in(client, persona) posts allauth's real sign-in form, and the authenticator
    app's code when the account has one; returns the last response."""

    def post(client: Client, persona: Persona) -> HttpResponse:
        response = client.post(
            "/accounts/login/", {"login": persona.email, "password": persona.password}
        )
        if response.get("Location") == "/accounts/2fa/authenticate/":
            response = client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
        return response

    return post


@dataclass
class Resident:
    """A resident signed in on their city's portal: the client, the account and its registry."""

    client: Client
    email: str
    password: str
    schema_name: str

    @property
    def participant(self):
        from portal.registry.models import Participant

        with schema_context(self.schema_name):
            return Participant.objects.select_related("user").get(user__email=self.email)


@pytest.fixture
def make_resident(host_client: Callable[[str], Client]) -> Callable[..., Resident]:
    """make_resident("concord", email=...) creates a verified resident and signs them in."""

    def make(
        schema_name: str = "concord",
        *,
        email: str = "alice@example.org",
        language: str = "en",
        organisation_name: str = "",
    ) -> Resident:
        from allauth.account.models import EmailAddress
        from django.contrib.auth import get_user_model

        from portal.registry.services import participant_create

        password = "correct-horse-battery"
        with schema_context(schema_name):
            user = get_user_model().objects.create_user(
                username=email, email=email, password=password
            )
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
            participant_create(user=user, organisation_name=organisation_name, language=language)
            client = host_client(f"{schema_name.replace('_', '-')}.localhost")
            client.force_login(user)
        return Resident(client, email, password, schema_name)

    return make


def site_post_data(*, cameras: int = 1, **overrides: object) -> dict[str, object]:
    """A complete, valid registration form for a site in Concord, as the browser would post it."""
    data: dict[str, object] = {
        "kind": "home",
        "address": "77 Union St S, Concord, NC 28025",
        "latitude": "35.4080",
        "longitude": "-80.5810",
        "contact_name": "Alice Moreno",
        "contact_phone": "(704) 555-0142",
        "contact_email": "alice@example.org",
        "contact_method": "phone",
        "contact_hours": "Weekdays after 5 pm",
        "accept_terms": "on",
        "cameras-TOTAL_FORMS": str(cameras),
        "cameras-INITIAL_FORMS": "0",
        "cameras-MIN_NUM_FORMS": "1",
        "cameras-MAX_NUM_FORMS": "20",
    }
    for index in range(cameras):
        data |= {
            f"cameras-{index}-label": f"Camera {index + 1}",
            f"cameras-{index}-direction": str(90 * index),
            f"cameras-{index}-sees": ["street", "sidewalk"],
            f"cameras-{index}-mount": "wall",
            f"cameras-{index}-recording": "motion",
            f"cameras-{index}-retention_days": "14",
            f"cameras-{index}-night_vision": "on",
        }
    return data | overrides


@pytest.fixture
def site_data() -> Callable[..., dict[str, object]]:
    return site_post_data


def feet(metres: int) -> str:
    """Meters as Concord's staff type them (feet, Program.distance_units): whole feet that the
    form stores as the same whole meters."""
    return str(round(metres / 0.3048))


def incident_post_data(**overrides: object) -> dict[str, object]:
    """A complete, valid incident form for Concord (a burglary one evening, 500 m typed as
    1640 ft), as the console's form posts it; times are the city's local time."""
    return {
        "kind": "crime",
        "category": "burglary",
        "case_number": "CPD-2026-0142",
        "address": "Union St S at Corban Ave",
        "latitude": "35.4080",
        "longitude": "-80.5810",
        "starts_at": "2026-11-20T21:00",
        "ends_at": "2026-11-20T23:00",
        "radius_m": feet(500),
    } | overrides


STAFF_PASSWORD = "a-staff-passphrase-of-length"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_now(secret: str = TOTP_SECRET) -> str:
    """The authenticator app's current code for the secret."""
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    counter = int(time.time()) // 30
    return format_hotp_value(hotp_value(secret, counter))


@dataclass
class Staff:
    client: Client
    email: str
    role: str
    schema_name: str


@pytest.fixture
def make_staff(host_client: Callable[[str], Client]) -> Callable[..., Staff]:
    """make_staff("concord", "investigator") creates a staff member with an authenticator app
    set up and signs them in (as after password and one-time code)."""

    def make(
        schema_name: str = "concord",
        role: str = "investigator",
        *,
        email: str | None = None,
        mfa: bool = True,
        signed_in: bool = True,
    ) -> Staff:
        from allauth.account.models import EmailAddress
        from allauth.mfa.totp.internal.auth import TOTP
        from django.contrib.auth import get_user_model

        from portal.registry.models import StaffMember

        email = email or f"{role}@{schema_name}.example.org"
        with schema_context(schema_name):
            user = get_user_model().objects.create_user(
                username=email, email=email, password=STAFF_PASSWORD
            )
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
            StaffMember.objects.create(user=user, role=role)
            if mfa:
                TOTP.activate(user, TOTP_SECRET)
            client = host_client(f"{schema_name}.localhost")
            if signed_in:
                client.force_login(user)
        return Staff(client, email, role, schema_name)

    return make


@pytest.fixture
def admin(make_staff: Callable[..., Staff]) -> Staff:
    """Concord's administrator, signed in with a second factor."""
    return make_staff("concord", "administrator")


@pytest.fixture
def investigator(make_staff: Callable[..., Staff]) -> Staff:
    """A Concord investigator, signed in with a second factor."""
    return make_staff("concord", "investigator")
