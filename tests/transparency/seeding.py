"""Records of a city to publish, made directly in its schema: owners and sites at known places,
audit entries, area notices with their answers, live-view grants and opt-outs. The personal
strings are distinctive so that the leak test can look for them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import Incident, Notification, NotificationRecipient
from portal.liveview.models import Device, Grant
from portal.registry.models import AuditEntry, Camera, OptOut, Participant, Site, StaffMember

# Two Concord ZIP codes' centres (the zipcodes package): 28025 and 28027.
ZIP_28025 = (35.3716, -80.53)
ZIP_28027 = (35.4072, -80.6256)

SECRET_NAME = "Zebulon Quackenbush"
SECRET_ADDRESS = "4417 Xylophone Lane"
SECRET_CASE = "CASE-QZ-98765"
SECRET_STAFF = "officer.quackenbush@leak.example"
SECRET_PHONE = "704-555-0199"
SECRET_NOTE = "Blue Pontiac Aztek"

_numbers = itertools.count(1)


@dataclass
class Seed:
    """How many of each to make (by category where the figure has one)."""

    sites: dict[tuple[float, float], int] = field(default_factory=dict)
    devices: int = 0
    reveals: dict[str, int] = field(default_factory=dict)
    footage_requests: dict[str, int] = field(default_factory=dict)
    # category -> list of answers of the owners reached ("", "has_footage", "nothing")
    area_notices: dict[str, list[str]] = field(default_factory=dict)
    # (reason, emergency) -> list of minutes each grant lasted
    live_views: dict[tuple[str, bool], list[int]] = field(default_factory=dict)
    opt_outs: int = 0


def _user(email: str):
    return get_user_model().objects.create_user(username=email, email=email, password="x")


def _site(participant: Participant, latitude: float, longitude: float) -> Site:
    number = next(_numbers)
    return Site.objects.create(
        participant=participant,
        kind="home",
        address=f"{number} {SECRET_ADDRESS}",
        latitude=latitude,
        longitude=longitude,
        contact_name=SECRET_NAME,
        contact_phone=SECRET_PHONE,
        contact_email=f"owner{number}@leak.example",
        contact_method="phone",
        terms_version=1,
        terms_accepted_at=timezone.now(),
    )


def seed(schema_name: str, plan: Seed) -> None:
    with schema_context(schema_name):
        staff_user = _user(f"{next(_numbers)}.{SECRET_STAFF}")
        staff = StaffMember.objects.create(user=staff_user, role="investigator")
        owner = Participant.objects.create(user=_user(f"owner{next(_numbers)}@leak.example"))
        sites: list[Site] = []
        for (latitude, longitude), count in plan.sites.items():
            sites += [_site(owner, latitude, longitude) for _ in range(count)]
        if not sites:
            sites.append(_site(owner, *ZIP_28025))
        site = sites[0]
        for index in range(plan.devices):
            Device.objects.create(
                site=sites[index % len(sites)],
                credential_id=f"dev{next(_numbers)}",
                credential_hash="x",
            )
        incidents: dict[str, Incident] = {}

        def incident(category: str) -> Incident:
            if category not in incidents:
                incidents[category] = Incident.objects.create(
                    kind="crime",
                    case_number=f"{SECRET_CASE}-{category}",
                    category=category,
                    address=SECRET_ADDRESS,
                    latitude=ZIP_28025[0],
                    longitude=ZIP_28025[1],
                    starts_at=timezone.now() - timedelta(hours=2),
                    ends_at=timezone.now() - timedelta(hours=1),
                    radius_m=500,
                    opened_by=staff_user,
                )
            return incidents[category]

        def entries(action: str, counts: dict[str, int]) -> None:
            for category, count in counts.items():
                for _ in range(count):
                    AuditEntry.objects.create(
                        actor_email=staff_user.email,
                        actor_role="investigator",
                        action=action,
                        site_id=site.pk,
                        participant_id=owner.pk,
                        incident_id=incident(category).pk,
                        case_number=incident(category).case_number,
                        category=category,
                        note=SECRET_NOTE,
                        reason=f"Contact details for case {incident(category).case_number}",
                    )

        entries(AuditEntry.Action.REVEAL, plan.reveals)
        entries(AuditEntry.Action.FOOTAGE_REQUEST, plan.footage_requests)
        for category, answers in plan.area_notices.items():
            entries(AuditEntry.Action.NOTIFY, {category: 1})
            notification = Notification.objects.create(
                incident=incident(category),
                kind=Notification.Kind.AREA,
                message=f"{SECRET_NAME} asks you to check",
                radius_m=500,
                created_by=staff_user,
            )
            for answer in answers:
                reached = Participant.objects.create(
                    user=_user(f"owner{next(_numbers)}@leak.example")
                )
                NotificationRecipient.objects.create(
                    notification=notification,
                    participant=reached,
                    claimed_at=timezone.now(),
                    sent_at=timezone.now(),
                    answer=answer,
                    answered_at=timezone.now() if answer else None,
                )
        if plan.live_views:
            camera = Camera.objects.create(
                site=site,
                label="Porch",
                direction=90,
                sees=["street"],
                mount="wall",
                recording="continuous",
                retention_days=7,
            )
            opened = timezone.now() - timedelta(hours=3)
            for (reason, emergency), lengths in plan.live_views.items():
                for minutes in lengths:
                    Grant.objects.create(
                        staff=staff,
                        staff_email=staff_user.email,
                        staff_role="investigator",
                        camera=camera,
                        reason=reason,
                        emergency=emergency,
                        case_number=SECRET_CASE,
                        note=SECRET_NOTE,
                        opened_at=opened,
                        expires_at=opened + timedelta(minutes=60),
                        ended_at=opened + timedelta(minutes=minutes),
                        ended_why=Grant.Ended.CLOSED,
                    )
        for _ in range(plan.opt_outs):
            OptOut.objects.create(sites_deleted=1, cameras_deleted=1, account_closed=True)
