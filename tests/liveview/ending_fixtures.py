"""Rows for the tests of how grants end, made directly (no device pairing, no grant opening):
an owner's integrated site with a camera a device's channel is mapped to and shared always, a
staff member signed in with a second factor, and their open grant on the camera. Ids are given
explicitly, so that two cities can hold the very same ids (collision tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.models import Channel, Device, Grant, Sharing
from portal.registry.models import AuditEntry, Camera, Participant, Site, StaffMember
from tests.conftest import STAFF_PASSWORD, TOTP_SECRET

# Far above what the suite's sequences reach, and the same in every city.
BASE = 70_000


@dataclass(frozen=True)
class LiveWorld:
    """One city's owner, camera, viewer and open grant (all ids equal across cities)."""

    schema_name: str
    client: Client  # the viewer's signed-in browser on the city's host
    viewer_email: str
    staff_pk: int
    owner_user_pk: int
    participant_pk: int
    site_pk: int
    camera_pk: int
    grant_pk: int

    def grant(self) -> Grant:
        with schema_context(self.schema_name):
            return Grant.objects.get(pk=self.grant_pk)

    def live_feed_ends(self) -> list[AuditEntry]:
        """The LIVE_FEED_END entries about this world's grant's camera."""
        with schema_context(self.schema_name):
            return list(
                AuditEntry.objects.filter(
                    action=AuditEntry.Action.LIVE_FEED_END,
                    reason__startswith=f"Live view of camera {self.camera_pk} ",
                )
            )

    def sharing_mode(self) -> str | None:
        with schema_context(self.schema_name):
            sharing = Sharing.objects.filter(camera_id=self.camera_pk).first()
            return sharing.mode if sharing else None


def viewer_make(schema_name: str, *, pk: int, role: str, email: str) -> Client:
    """A staff member with the given ids (user and StaffMember), a second factor set up,
    signed in on the city's host."""
    with schema_context(schema_name):
        user = get_user_model().objects.create_user(
            pk=pk, username=email, email=email, password=STAFF_PASSWORD
        )
        EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
        StaffMember.objects.create(pk=pk, user=user, role=role)
        TOTP.activate(user, TOTP_SECRET)
        client = Client(HTTP_HOST=f"{schema_name}.localhost")
        client.force_login(user)
    return client


def live_world(
    schema_name: str = "concord",
    *,
    offset: int = 0,
    role: str = "operator",
    minutes: int = 15,
    watched_seconds: int = 42,
) -> LiveWorld:
    """An owner's integrated, shared camera and a staff member's open grant on it, opened
    `watched_seconds` ago (and watched since), expiring `minutes` after opening."""
    pk = BASE + offset
    email = f"viewer{offset}@{schema_name}.example.org"
    client = viewer_make(schema_name, pk=pk, role=role, email=email)
    now = timezone.now()
    with schema_context(schema_name):
        owner = get_user_model().objects.create_user(
            pk=pk + 500, username=f"owner{offset}@example.org", email=f"owner{offset}@example.org"
        )
        participant = Participant.objects.create(pk=pk, user=owner)
        site = Site.objects.create(
            pk=pk,
            participant=participant,
            kind="business",
            address=f"{offset} Main St",
            latitude=35.408,
            longitude=-80.581,
            participation=Site.Participation.INTEGRATED,
            contact_name="Dana Owner",
            contact_email=f"owner{offset}@example.org",
            contact_method="email",
            terms_version=1,
            terms_accepted_at=now,
        )
        camera = Camera.objects.create(
            pk=pk,
            site=site,
            label="Front door",
            direction=90,
            sees=["street"],
            mount="wall",
            recording="continuous",
            retention_days=14,
        )
        device = Device.objects.create(
            pk=pk,
            site=site,
            credential_id=f"{schema_name}{offset}".ljust(16, "x")[:16],
            credential_hash="0" * 64,
            last_heartbeat_at=now,
        )
        Channel.objects.create(device=device, key="ch1", name="Door", camera=camera)
        Sharing.objects.create(camera=camera, mode=Sharing.Mode.ALWAYS)
        opened = now - timedelta(seconds=watched_seconds)
        grant = Grant.objects.create(
            pk=pk,
            staff_id=pk,
            staff_email=email,
            staff_role=role,
            camera=camera,
            reason="active_threat",
            emergency=True,
            case_number=f"{schema_name.upper()}-{offset}",
            ip_address="203.0.113.7",
            opened_at=opened,
            expires_at=opened + timedelta(minutes=minutes),
            watched_from=opened,
            watched_until=now,
        )
    return LiveWorld(
        schema_name=schema_name,
        client=client,
        viewer_email=email,
        staff_pk=pk,
        owner_user_pk=owner.pk,
        participant_pk=participant.pk,
        site_pk=site.pk,
        camera_pk=camera.pk,
        grant_pk=grant.pk,
    )
