"""onboarding.requests.program_request_submit on its own: it checks everything itself (a caller
that skips the form gets the same refusals) and writes nothing when it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from onboarding.models import ProgramRequest, ProgramRequestEvent
from onboarding.requests import program_request_submit

pytestmark = pytest.mark.django_db


def fields(**overrides: Any) -> dict[str, Any]:
    return {
        "agency_name": "Springfield Police Department",
        "city": "Springfield",
        "state": "IL",
        "time_zone": "America/Chicago",
        "contact_name": "Alice Moreno",
        "contact_title": "Lieutenant",
        "contact_email": "alice@springfield-il.gov",
        "contact_phone": "217 555 0100",
        "expected_cameras": 400,
        "wants_devices": False,
        "subdomain": "springfield-il",
        "purchasing": "cooperative",
        "language": "en",
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subdomain": "concord"}, "subdomain"),
        ({"subdomain": "admin"}, "subdomain"),
        ({"state": "North Carolina"}, "state"),
        ({"time_zone": "Nowhere/Else"}, "time_zone"),
        ({"expected_cameras": 2_000_000}, "expected_cameras"),
        ({"purchasing": "barter"}, "purchasing"),
        ({"contact_email": "x" * 150 + "@example.org"}, "contact_email"),
    ],
)
def test_the_service_refuses_bad_input_and_writes_nothing(
    overrides, field, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError) as error:
        program_request_submit(**fields(**overrides))
    assert field in error.value.message_dict
    assert not ProgramRequest.objects.exists()
    assert not ProgramRequestEvent.objects.exists()
    assert not mail.outbox


def test_an_unknown_language_falls_back_to_english(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request = program_request_submit(**fields(language="xx"))
    assert request.language == "en"
    assert mail.outbox[0].subject == "Confirm your Canvass program request"
