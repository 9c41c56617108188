"""The demo's program requests: four departments asking for a program, at different steps of
the vendor's queue, made through the same services as the public form and the console (the
emails they send are not printed: the demo's own output stays readable)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.test import override_settings

from onboarding.models import ProgramRequest
from onboarding.requests import confirm_token, program_request_confirm, program_request_submit
from onboarding.review import program_request_note, program_request_transition
from tenants.demo import VENDOR_EMAIL

# (fields, confirmed, then the vendor's steps: ("status", to) or ("note", text))
DEMO_REQUESTS: list[tuple[dict[str, Any], bool, list[tuple[str, str]]]] = [
    (
        {
            "agency_name": "Fayetteville Police Department",
            "city": "Fayetteville",
            "state": "AR",
            "time_zone": "America/Chicago",
            "contact_name": "Renee Walker",
            "contact_title": "Community Policing Sergeant",
            "contact_email": "rwalker@fayetteville-ar.gov",
            "contact_phone": "+1 479 555 0131",
            "expected_cameras": 4_000,
            "wants_devices": True,
            "subdomain": "fayetteville",
            "purchasing": ProgramRequest.Purchasing.PURCHASE_ORDER,
            "message": "Our council approved the program in October; we would like to launch "
            "in January.",
            "language": "en",
        },
        True,
        [],
    ),
    (
        {
            "agency_name": "Departamento de Policía de Brownsville",
            "city": "Brownsville",
            "state": "TX",
            "time_zone": "America/Chicago",
            "contact_name": "Marisol Garza",
            "contact_title": "Teniente",
            "contact_email": "mgarza@brownsvilletx.gov",
            "contact_phone": "+1 956 555 0177",
            "expected_cameras": 2_500,
            "wants_devices": False,
            "subdomain": "brownsville",
            "purchasing": ProgramRequest.Purchasing.COOPERATIVE,
            "purchasing_note": "BuyBoard cooperative contract",
            "language": "es",
        },
        True,
        [
            ("status", ProgramRequest.Status.IN_REVIEW),
            ("note", "Called Lt. Garza: BuyBoard contract number to follow by email."),
        ],
    ),
    (
        {
            "agency_name": "Greenville Police Department",
            "city": "Greenville",
            "state": "SC",
            "time_zone": "America/New_York",
            "contact_name": "Tom Reid",
            "contact_title": "Officer",
            "contact_email": "tom.reid.gvl@gmail.com",
            "contact_phone": "+1 864 555 0109",
            "expected_cameras": 900,
            "wants_devices": False,
            "subdomain": "greenville",
            "purchasing": ProgramRequest.Purchasing.CARD,
            "language": "en",
        },
        True,
        [],
    ),
    (
        {
            "agency_name": "Durham Police Department",
            "city": "Durham",
            "state": "NC",
            "time_zone": "America/New_York",
            "contact_name": "Keisha Bell",
            "contact_title": "Crime Analyst",
            "contact_email": "keisha.bell@durhamnc.gov",
            "contact_phone": "+1 919 555 0190",
            "expected_cameras": 6_000,
            "wants_devices": True,
            "subdomain": "durham",
            "purchasing": ProgramRequest.Purchasing.PURCHASE_ORDER,
            "language": "en",
        },
        False,
        [],
    ),
]


def demo_requests_seed() -> list[str]:
    """Make the demo's requests once (a request for the same portal address is kept)."""
    vendor = get_user_model().objects.get(email=VENDOR_EMAIL)
    made = 0
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        for fields, confirmed, steps in DEMO_REQUESTS:
            if ProgramRequest.objects.filter(subdomain=fields["subdomain"]).exists():
                continue
            program_request = program_request_submit(**fields)
            made += 1
            if confirmed:
                program_request_confirm(confirm_token(program_request))
            for kind, value in steps:
                program_request.refresh_from_db()
                if kind == "status":
                    program_request_transition(
                        program_request=program_request, to_status=value, actor=vendor
                    )
                else:
                    program_request_note(program_request=program_request, actor=vendor, text=value)
    waiting = ProgramRequest.objects.exclude(
        status__in=[ProgramRequest.Status.UNCONFIRMED, ProgramRequest.Status.PROVISIONED]
    ).count()
    return [f"program requests: {waiting} in the queue at /console/requests/ ({made} new)"]
