"""The directory tests' cities: departments as public rows only (their branding, programme and
primary address, no schema: the directory reads nothing else), gone with the test's rollback."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from tenants.models import Branding, Department, Domain, Program
from tests.conftest import Persona
from tests.lifecycle.conftest import signed_in


def public_city(
    subdomain: str,
    *,
    city: str,
    state: str,
    display_name: str,
    centre: tuple[float, float] = (35.0, -80.0),
    radius_m: int = 10_000,
    listed: bool = True,
    status: str = Department.Status.ACTIVE,
) -> Department:
    """A department's public rows without a schema: bulk_create skips Department.save, which
    would create one (auto_create_schema)."""
    (department,) = Department.objects.bulk_create(
        [
            Department(
                schema_name=subdomain,
                name=f"{city} Police Department",
                city=city,
                state=state,
                listed=listed,
                status=status,
            )
        ]
    )
    Branding.objects.create(department=department, display_name=display_name, languages=["en"])
    Program.objects.create(
        department=department,
        center_latitude=centre[0],
        center_longitude=centre[1],
        service_radius_m=radius_m,
    )
    Domain.objects.bulk_create(
        [Domain(domain=f"{subdomain}.localhost", tenant=department, is_primary=True)]
    )
    return department


@pytest.fixture
def make_city() -> Callable[..., Department]:
    return public_city


@pytest.fixture
def console(platform_client: Client, vendor: Persona, sign_in) -> Client:
    """The demo vendor account (an administrator: every capability), signed in."""
    return signed_in(platform_client, vendor, sign_in)
