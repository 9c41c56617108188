"""A Concord registry seeded for council reports: a resident, staff, an incident and its
notices, live-view grants and audit entries, all carrying distinctive strings that no report
may print; and helpers that count what the report should say, row by row in Python."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import Incident, Notification, NotificationRecipient
from portal.liveview.models import Grant
from portal.registry.audit import Actor, audit_record
from portal.registry.models import AuditEntry, Camera, Participant, Site, StaffMember

RESIDENT_NAME = "Philomena Zwicklebauer"
RESIDENT_EMAIL = "philomena.zwick@example.net"
ADDRESS = "4417 Quillfeather Court"
CASE_NUMBER = "CASE-QX-77123"
STAFF_EMAIL = "officer.thaddeus.grubb@concord.example.org"
CAMERA_LABEL = "Gazebo of Philomena"
SECRETS = (
    RESIDENT_NAME,
    "Zwicklebauer",
    RESIDENT_EMAIL,
    ADDRESS,
    "Quillfeather",
    CASE_NUMBER,
    "QX-77123",
    STAFF_EMAIL,
    "thaddeus",
    CAMERA_LABEL,
)


@dataclass(frozen=True)
class CaseRef:
    pk: int
    case_number: str
    category: str


def period() -> tuple[date, date]:
    today = timezone.localdate()
    return today - timedelta(days=40), today


@dataclass
class Seeded:
    site: Site
    camera: Camera
    incident: Incident
    staff: StaffMember


def seed_city(make_resident, site_data, schema_name: str = "concord") -> Seeded:
    """A resident's site with one camera, an investigator, a burglary incident with an area
    notice reaching the owner (who answered with footage), three live-view grants and audit
    entries: 6 reveals and 2 footage requests for burglary, 3 reveals for robbery, 1 export."""
    resident = make_resident(schema_name, email=RESIDENT_EMAIL)
    resident.client.post(
        "/register/",
        site_data(
            contact_name=RESIDENT_NAME,
            contact_email=RESIDENT_EMAIL,
            address=f"{ADDRESS}, Concord, NC 28025",
            **{"cameras-0-label": CAMERA_LABEL},
        ),
    )
    with schema_context(schema_name):
        site = Site.objects.get(contact_name=RESIDENT_NAME)
        camera = site.cameras.get()
        user = get_user_model().objects.create_user(username=STAFF_EMAIL, email=STAFF_EMAIL)
        staff = StaffMember.objects.create(user=user, role="investigator")
        now = timezone.now()
        incident = Incident.objects.create(
            kind="crime",
            case_number=CASE_NUMBER,
            category="burglary",
            address=ADDRESS,
            latitude=35.408,
            longitude=-80.581,
            starts_at=now - timedelta(hours=3),
            ends_at=now - timedelta(hours=2),
            radius_m=500,
            opened_by=user,
        )
        notice = Notification.objects.create(
            incident=incident, kind="area", message=f"Near {ADDRESS}", radius_m=500, created_by=user
        )
        NotificationRecipient.objects.create(
            notification=notice,
            participant=Participant.objects.get(pk=site.participant_id),
            sent_at=now,
            answer="has_footage",
            answered_at=now,
        )
        for minutes, emergency, reason in (
            (10, True, "active_threat"),
            (20, True, "active_threat"),
            (5, False, "investigation"),
        ):
            Grant.objects.create(
                staff=staff,
                staff_email=STAFF_EMAIL,
                staff_role="investigator",
                camera=camera,
                reason=reason,
                emergency=emergency,
                case_number=CASE_NUMBER,
                opened_at=now - timedelta(minutes=minutes),
                expires_at=now + timedelta(hours=1),
                ended_at=now,
                ended_why="closed",
            )
        actor = Actor(STAFF_EMAIL, "investigator", "203.0.113.9", staff)
        burglary = CaseRef(incident.pk, CASE_NUMBER, "burglary")
        robbery = CaseRef(incident.pk, CASE_NUMBER, "robbery")
        for _ in range(6):
            audit_record(
                actor=actor,
                action=AuditEntry.Action.REVEAL,
                reason=f"Revealed {RESIDENT_NAME}",
                site=site,
                case=burglary,
            )
        for _ in range(2):
            audit_record(
                actor=actor,
                action=AuditEntry.Action.FOOTAGE_REQUEST,
                reason="Footage requested",
                site=site,
                case=burglary,
            )
        for _ in range(3):
            audit_record(
                actor=actor,
                action=AuditEntry.Action.REVEAL,
                reason="Revealed",
                site=site,
                case=robbery,
            )
        audit_record(actor=actor, action=AuditEntry.Action.EXPORT, reason="Registry export")
    return Seeded(site, camera, incident, staff)


def counted(schema_name: str, action: str, category: str | None = None) -> int:
    """Entries of one action in the report's period, counted one by one (not with SQL)."""
    start, end = period()
    with schema_context(schema_name):
        return sum(
            1
            for entry in AuditEntry.objects.filter(action=action)
            if start <= timezone.localdate(entry.at) <= end
            and (category is None or entry.category == category)
        )


def shown(count: int) -> str:
    return str(count) if count >= 5 else "fewer than 5"


@pytest.fixture
def seeded(make_resident, site_data) -> Seeded:
    return seed_city(make_resident, site_data)
