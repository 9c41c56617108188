"""Seed a private copy of the test database for tests/faults/test_redis_down.py (run as a
script with the environment of canvass_environment(), so it writes to the private server):
in Concord, an investigator with an authenticator app, a resident, OWNERS owners with a site
near an incident, and the incident. Prints the incident's id and the owners' addresses as JSON."""

from __future__ import annotations

import json
import sys

import django

django.setup()

from allauth.account.models import EmailAddress  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_tenants.utils import schema_context  # noqa: E402

from portal.department.models import Incident  # noqa: E402
from portal.registry.models import Participant, Site, StaffMember  # noqa: E402
from portal.registry.services import participant_create  # noqa: E402

CENTRE = (35.4080, -80.5810)  # Concord
STAFF_EMAIL = "investigator@concord.example.org"
STAFF_PASSWORD = "a-staff-passphrase-of-length"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
RESIDENT_EMAIL = "alice@example.org"
RESIDENT_PASSWORD = "correct-horse-battery"


def main(owners: int) -> dict[str, object]:
    users = get_user_model().objects
    with schema_context("concord"):
        staff = users.create_user(username=STAFF_EMAIL, email=STAFF_EMAIL, password=STAFF_PASSWORD)
        EmailAddress.objects.create(user=staff, email=STAFF_EMAIL, primary=True, verified=True)
        StaffMember.objects.create(user=staff, role="investigator")
        TOTP.activate(staff, TOTP_SECRET)
        resident = users.create_user(
            username=RESIDENT_EMAIL, email=RESIDENT_EMAIL, password=RESIDENT_PASSWORD
        )
        EmailAddress.objects.create(
            user=resident, email=RESIDENT_EMAIL, primary=True, verified=True
        )
        participant_create(user=resident, organisation_name="", language="en")
        addresses = [f"owner{n}@example.org" for n in range(owners)]
        owner_users = users.bulk_create(
            get_user_model()(username=email, email=email, password=make_password(None))
            for email in addresses
        )
        participants = Participant.objects.bulk_create(
            Participant(user=user, language="en") for user in owner_users
        )
        Site.objects.bulk_create(
            Site(
                participant=participant,
                kind="home",
                address=f"{n} Union St S",
                latitude=CENTRE[0] + 0.0005 * (n % 5),
                longitude=CENTRE[1] + 0.0005 * (n // 5 % 5),
                contact_name="Owner",
                contact_method="email",
                terms_version=1,
                terms_accepted_at=timezone.now(),
            )
            for n, participant in enumerate(participants)
        )
        incident = Incident.objects.create(
            kind="other",
            case_number="REDIS-DOWN-1",
            address="Union St S at Corban Ave",
            latitude=CENTRE[0],
            longitude=CENTRE[1],
            starts_at=timezone.now(),
            ends_at=timezone.now(),
            radius_m=1_000,
            opened_by=staff,
        )
    return {"incident": incident.pk, "owners": addresses}


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
