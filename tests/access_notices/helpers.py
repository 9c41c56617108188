"""What the notices' tests stand on: an owner with a site, an incident, a reveal and a footage
request made through the department's own services, and the job run in one city."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.access_notices.tasks import notices_run
from portal.department import services as department_services
from portal.department.models import Incident
from portal.registry.audit import Actor
from portal.registry.models import Site, StaffMember
from tests.conftest import Resident
from tests.liveview.owner_fixtures import Owner, owner_make


def owner(
    make_resident: Callable[..., Resident],
    site_data: Callable[..., dict[str, object]],
    schema_name: str = "concord",
    *,
    email: str = "alice@example.org",
    language: str = "en",
) -> Owner:
    return owner_make(
        make_resident, site_data, schema_name, email=email, language=language, integrated=False
    )


def actor_of(schema_name: str, email: str) -> Actor:
    with schema_context(schema_name):
        staff = StaffMember.objects.select_related("user").get(user__email=email)
    return Actor.of_staff(staff, "203.0.113.9")


def incident_open(
    schema_name: str, staff_email: str, *, case_number: str = "CPD-2026-0142"
) -> Incident:
    with schema_context(schema_name):
        staff = StaffMember.objects.get(user__email=staff_email)
        now = timezone.now()
        return Incident.objects.create(
            kind=Incident.Kind.CRIME,
            category="burglary",
            case_number=case_number,
            address="Union St S at Corban Ave",
            latitude=35.4080,
            longitude=-80.5810,
            starts_at=now - timedelta(hours=3),
            ends_at=now - timedelta(hours=1),
            radius_m=500,
            opened_by_id=staff.user_id,
        )


def reveal(schema_name: str, staff_email: str, incident: Incident, site_id: int) -> None:
    with schema_context(schema_name):
        department_services.contact_reveal(
            actor=actor_of(schema_name, staff_email),
            site=Site.objects.get(pk=site_id),
            incident=incident,
        )


def footage_request(schema_name: str, staff_email: str, incident: Incident, site_id: int) -> None:
    with schema_context(schema_name):
        department_services.footage_request(
            actor=actor_of(schema_name, staff_email),
            incident=incident,
            site=Site.objects.select_related("participant").get(pk=site_id),
            message="Please send the clip from 9 to 11 pm.",
        )


def run(schema_name: str = "concord", now: datetime | None = None) -> str:
    with schema_context(schema_name):
        return notices_run(now or timezone.now())


def notices_to(email: str) -> list[mail.EmailMessage]:
    """The access notices an address was sent (the footage requests themselves left out)."""
    return [
        message
        for message in mail.outbox
        if message.to == [email] and "/my/notices/" in message.body
    ]
