"""The vendor's queue of program requests: requests written straight into the public schema (the
public form is tested in its own folder), and vendor staff of a role signed in on the platform
with a second factor set up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from tests.conftest import TOTP_SECRET


@dataclass
class Reviewer:
    client: Client
    email: str
    pk: int


@pytest.fixture
def make_reviewer(host_client: Callable[[str], Client]) -> Callable[..., Reviewer]:
    """make_reviewer("administrator") is vendor staff of that role, signed in on the platform."""

    def make(role: str = "administrator", *, email: str | None = None) -> Reviewer:
        from allauth.mfa.totp.internal.auth import TOTP
        from django.contrib.auth import get_user_model

        from console.models import VendorStaff

        email = email or f"{role}-reviewer@canvass.example.org"
        with schema_context("public"):
            user = get_user_model().objects.create_user(
                username=email, email=email, password="x-long-passphrase", is_staff=True
            )
            VendorStaff.objects.create(user=user, role=role)
            TOTP.activate(user, TOTP_SECRET)
            client = host_client("localhost")
            client.force_login(user)
        return Reviewer(client, email, user.pk)

    return make


@pytest.fixture
def alice(make_reviewer: Callable[..., Reviewer]) -> Reviewer:
    """A vendor administrator who reviews requests."""
    return make_reviewer("administrator", email="alice@canvass.example.org")


@pytest.fixture
def bob(make_reviewer: Callable[..., Reviewer]) -> Reviewer:
    """A second vendor administrator (two people clicking at once)."""
    return make_reviewer("administrator", email="bob@canvass.example.org")


def request_make(**overrides: Any):
    """A program request as the public form leaves it once its email is confirmed (NEW)."""
    from django.utils import timezone
    from onboarding.models import ProgramRequest

    fields: dict[str, Any] = {
        "agency_name": "Springfield Police Department",
        "city": "Springfield",
        "state": "IL",
        "time_zone": "America/Chicago",
        "contact_name": "Clancy Wiggum",
        "contact_title": "Chief of Police",
        "contact_email": "chief@springfieldpd.gov",
        "contact_phone": "+1 217 555 0100",
        "expected_cameras": 250,
        "wants_devices": True,
        "subdomain": "springfield",
        "purchasing": ProgramRequest.Purchasing.PURCHASE_ORDER,
        "status": ProgramRequest.Status.NEW,
        "email_confirmed_at": timezone.now(),
        "language": "en",
    }
    fields.update(overrides)
    with schema_context("public"):
        return ProgramRequest.objects.create(**fields)


@pytest.fixture
def make_request(db: None) -> Callable[..., Any]:
    return request_make


def status_post(reviewer: Reviewer, program_request: Any, to_status: str, reason: str = ""):
    return reviewer.client.post(
        f"/console/requests/{program_request.pk}/status/",
        {"to_status": to_status, "reason": reason},
    )


def rows_written() -> dict[str, int]:
    """What a refused step must leave as it was: history lines, audit entries."""
    from onboarding.models import ProgramRequestEvent

    from console.models import PlatformAuditEntry

    with schema_context("public"):
        return {
            "events": ProgramRequestEvent.objects.count(),
            "audit": PlatformAuditEntry.objects.filter(action="program_request").count(),
        }
