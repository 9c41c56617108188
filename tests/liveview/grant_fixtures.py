"""Live view's test world: an owner's integrated camera with a paired, online device whose
channel is mapped to it and a sharing mode (rows made directly: pairing is tested elsewhere),
staff who may watch, and the media relay's requests."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from portal.liveview.devices import sha256_hex as credential_hash
from portal.liveview.models import Channel, Device, Sharing
from portal.registry.audit import Actor
from portal.registry.models import Camera, Site, StaffMember
from portal.registry.services import participant_create

IP = "203.0.113.7"
MEDIA_KEY = "dev-only-media-auth-key"
# Concord's demo centre, where incidents are placed.
CONCORD = (35.4080, -80.5810)


@dataclass
class LiveCamera:
    camera: Camera
    device: Device
    channel: Channel
    credential: str

    @property
    def site(self) -> Site:
        return self.camera.site


def live_camera(
    *,
    mode: str = Sharing.Mode.ALWAYS,
    schedule: list[dict[str, Any]] | None = None,
    email: str = "owner@example.org",
    latitude: float = CONCORD[0],
    longitude: float = CONCORD[1],
    label: str = "Porch",
    camera_id: int | None = None,
    user_id: int | None = None,
) -> LiveCamera:
    """In the current schema: an owner with an integrated site, one camera shared in `mode`,
    a device heard from just now and its channel "ch1" mapped to the camera."""
    user = get_user_model().objects.create_user(
        username=email, email=email, password="owner-passphrase", id=user_id
    )
    participant = participant_create(user=user)
    site = Site.objects.create(
        participant=participant,
        kind=Site.Kind.HOME,
        address="77 Union St S, Concord, NC 28025",
        latitude=latitude,
        longitude=longitude,
        participation=Site.Participation.INTEGRATED,
        contact_name="Alice Moreno",
        contact_phone="(704) 555-0142",
        contact_email=email,
        contact_method=Site.ContactMethod.PHONE,
        terms_version=1,
        terms_accepted_at=timezone.now(),
    )
    camera = Camera.objects.create(
        id=camera_id,
        site=site,
        label=label,
        direction=90,
        sees=["street"],
        mount="wall",
        recording="motion",
        retention_days=14,
    )
    credential_id = secrets.token_urlsafe(12)
    secret = secrets.token_urlsafe(32)
    device = Device.objects.create(
        site=site,
        credential_id=credential_id,
        credential_hash=credential_hash(secret),
        last_heartbeat_at=timezone.now(),
    )
    channel = Channel.objects.create(device=device, key="ch1", name="Front", camera=camera)
    Sharing.objects.create(camera=camera, mode=mode, schedule=schedule or [])
    return LiveCamera(camera, device, channel, f"cvd_{credential_id}_{secret}")


def staff_member(
    role: str = "investigator", *, email: str | None = None, user_id: int | None = None
) -> StaffMember:
    """In the current schema: a staff member (no session; see conftest's make_staff)."""
    email = email or f"{role}@example.org"
    user = get_user_model().objects.create_user(
        username=email, email=email, password="staff-passphrase", id=user_id
    )
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return StaffMember.objects.create(user=user, role=role)


def actor_of(staff: StaffMember) -> Actor:
    return Actor.of_staff(staff, IP)


def heartbeat(live: LiveCamera) -> None:
    """The device is heard from now (after moving the clock)."""
    Device.objects.filter(pk=live.device.pk).update(last_heartbeat_at=timezone.now())


def media_request(client: Client, key: str = MEDIA_KEY, **body: Any) -> Any:
    """The relay's authorisation request, as MediaMTX sends it."""
    fields = {
        "user": "",
        "password": "",
        "token": "",
        "ip": IP,  # the viewer, where the grant was opened
        "action": "read",
        "path": "",
        "protocol": "webrtc",
        "id": "",
        "query": "",
    } | body
    return client.post(
        f"/media/auth?key={key}", json.dumps(fields), content_type="application/json"
    )
