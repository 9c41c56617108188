"""Rows the owner's tests stand on, made directly (pairing and grant_open are built in parallel
elsewhere): an owner with an integrated site, a paired device whose channels are the site's
cameras, staff who watch, and grants as they are when staff have watched."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.models import Channel, Device, Grant
from portal.registry.models import Camera, Participant, Site, StaffMember
from tests.conftest import Resident

# Where a site may be registered in each demo city (inside its service area).
PLACES = {
    "concord": {},
    "carrollton": {
        "address": "200 Bradley St, Carrollton, GA",
        "latitude": "33.5801",
        "longitude": "-85.0766",
    },
    "littlerock": {
        "address": "500 President Clinton Ave",
        "latitude": "34.7465",
        "longitude": "-92.2896",
    },
}


@dataclass
class Owner:
    """A resident signed in on their city's portal, with one site and its cameras."""

    resident: Resident
    site_id: int
    camera_ids: list[int]

    @property
    def client(self):
        return self.resident.client

    @property
    def schema_name(self) -> str:
        return self.resident.schema_name


def owner_make(
    make_resident: Callable[..., Resident],
    site_data: Callable[..., dict[str, object]],
    schema_name: str = "concord",
    *,
    email: str = "alice@example.org",
    language: str = "en",
    cameras: int = 2,
    integrated: bool = True,
) -> Owner:
    """A resident who registered a site with `cameras` cameras, integrated unless told not."""
    resident = make_resident(schema_name, email=email, language=language)
    response = resident.client.post("/register/", site_data(cameras=cameras, **PLACES[schema_name]))
    assert response.status_code == 302, response
    with schema_context(schema_name):
        site = Site.objects.get(participant__user__email=email)
        if integrated:
            site.participation = Site.Participation.INTEGRATED
            site.save(update_fields=["participation"])
        Participant.objects.filter(pk=site.participant_id).update(language=language)
        camera_ids = list(site.cameras.order_by("pk").values_list("pk", flat=True))
    return Owner(resident, site.pk, camera_ids)


def device_pair(schema_name: str, owner: Owner, *, heard: datetime | None = None) -> Device:
    """A device paired with the owner's site, heard from at `heard` (now by default), whose
    channels ch1, ch2, ... are the site's cameras in order."""
    with schema_context(schema_name):
        device = Device.objects.create(
            site_id=owner.site_id,
            label="Hub in the garage",
            credential_id=secrets.token_urlsafe(12)[:16],
            credential_hash="0" * 64,
            last_heartbeat_at=heard or timezone.now(),
        )
        for number, camera_id in enumerate(owner.camera_ids, start=1):
            Channel.objects.create(
                device=device, key=f"ch{number}", name=f"Channel {number}", camera_id=camera_id
            )
    return device


def staff_member(schema_name: str, email: str) -> StaffMember:
    with schema_context(schema_name):
        return StaffMember.objects.select_related("user").get(user__email=email)


def grant_make(
    schema_name: str,
    camera_id: int,
    staff: StaffMember,
    *,
    reason: str = "active_threat",
    case_number: str = "CPD-2026-0777",
    opened_at: datetime | None = None,
    minutes: int = 15,
    watched_seconds: int = 0,
    notice_delay: timedelta | None = None,
    ended_why: str = "",
) -> Grant:
    """A grant as grant_open leaves it (and media served for `watched_seconds`)."""
    opened_at = opened_at or timezone.now()
    with schema_context(schema_name):
        camera = Camera.objects.get(pk=camera_id)
        grant = Grant.objects.create(
            staff=staff,
            staff_email=staff.user.email,
            staff_role=staff.role,
            camera=camera,
            reason=reason,
            emergency=reason != "investigation",
            case_number=case_number,
            ip_address="192.0.2.10",
            opened_at=opened_at,
            expires_at=opened_at + timedelta(minutes=minutes),
            watched_from=opened_at if watched_seconds else None,
            watched_until=opened_at + timedelta(seconds=watched_seconds)
            if watched_seconds
            else None,
            notice_after=opened_at + notice_delay if notice_delay else None,
            notice_delayed=notice_delay is not None,
            ended_at=opened_at + timedelta(seconds=watched_seconds or 1) if ended_why else None,
            ended_why=ended_why,
        )
    return grant
