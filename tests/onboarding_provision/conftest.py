"""Provisioning from a program request: an approved request, vendor staff signed in (by role),
the in-memory Stripe, and the provisioning form as a browser posts it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context
from onboarding.models import ProgramRequest
from onboarding.provisioning import provision_initial

from billing.fake_stripe import FakeStripe
from billing.gateway import transport_injected

REQUEST_FIELDS: dict[str, Any] = {
    "agency_name": "Springfield Police Department",
    "city": "Springfield",
    "state": "IL",
    "time_zone": "America/Chicago",
    "contact_name": "Pat Morales",
    "contact_title": "Chief of Police",
    "contact_email": "chief@springfield.example.org",
    "contact_phone": "+1 217 555 0100",
    "expected_cameras": 3_000,
    "wants_devices": True,
    "subdomain": "springfield",
    "purchasing": ProgramRequest.Purchasing.PURCHASE_ORDER,
    "language": "en",
}


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    with transport_injected(FakeStripe()) as fake:
        yield fake


@pytest.fixture
def make_request(db: None) -> Callable[..., ProgramRequest]:
    """make_request(status=..., **fields): a confirmed request for Springfield, approved."""

    def make(**changes: Any) -> ProgramRequest:
        fields = REQUEST_FIELDS | {
            "status": ProgramRequest.Status.APPROVED,
            "email_confirmed_at": timezone.now(),
        }
        return ProgramRequest.objects.create(**(fields | changes))

    return make


@pytest.fixture
def approved(make_request: Callable[..., ProgramRequest]) -> ProgramRequest:
    return make_request()


def vendor_client(host_client: Callable[[str], Client], role: str | None = None) -> Client:
    """The platform site signed in as vendor staff with a second factor: the demo vendor (an
    administrator) or a new member with `role`."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth import get_user_model

    from console.models import VendorStaff
    from tenants.demo import VENDOR_EMAIL
    from tests.conftest import TOTP_SECRET

    client = host_client("localhost")
    with schema_context("public"):
        users = get_user_model().objects
        if role is None:
            user = users.get(email=VENDOR_EMAIL)
        else:
            email = f"{role}@canvass.example.org"
            user = users.create_user(username=email, email=email, is_staff=True)
            VendorStaff.objects.create(user=user, role=role)
            TOTP.activate(user, TOTP_SECRET)
        client.force_login(user)
    return client


@pytest.fixture
def console(host_client: Callable[[str], Client]) -> Client:
    return vendor_client(host_client)


def form_data(program_request: ProgramRequest, **changes: Any) -> dict[str, Any]:
    """The provisioning form as the page pre-fills it, posted unchanged but for `changes`."""
    data: dict[str, Any] = {}
    for name, value in (provision_initial(program_request) | changes).items():
        data[name] = value if isinstance(value, list) else str(value)
    # Distances are typed in the department's units; a unit after the number says which.
    if str(data.get("service_radius_m", "")).isdigit():
        data["service_radius_m"] += " m"
    data.setdefault("primary_color", "#1d4ed8")
    data.setdefault("accent_color", "#f59e0b")
    return data


def provision_path(program_request: ProgramRequest) -> str:
    return f"/console/requests/{program_request.pk}/provision/"
