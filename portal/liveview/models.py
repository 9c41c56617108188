"""Live view, in each department's own schema: the devices owners run at their sites (the
Canvass bridge), which of the site's cameras each device's channels are, what the owner shares,
and the short grants under which staff watch a camera. The platform records no video: these
rows are the record of who watched what, when, for how long and why."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.registry.models import Camera, Participant, Site, StaffMember

# An emergency notice to the owner may be held back by the department at most this long.
NOTICE_DELAY_MAX = timedelta(hours=72)


class Device(models.Model):
    """An integration box at one site, paired through a claim code. It authenticates with a
    credential: a public id (looked up) and a secret of which only a hash is kept."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="devices")
    label = models.CharField(_("name"), max_length=80, blank=True)
    credential_id = models.CharField(max_length=32, unique=True)
    credential_hash = models.CharField(max_length=128)
    credential_issued_at = models.DateTimeField(default=timezone.now)
    # A revoked device is refused everywhere; re-pairing takes a new claim code.
    revoked_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(default=timezone.now)
    claimed_from = models.GenericIPAddressField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_from = models.GenericIPAddressField(null=True, blank=True)
    bridge_version = models.CharField(max_length=40, blank=True)
    # The pause switch on the box itself (reported by the bridge): the same effect as the
    # owner's pause in the portal.
    paused_on_device = models.BooleanField(default=False)
    # Set when the heartbeat check found it silent (and told the owner); cleared by a heartbeat.
    offline_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["claimed_at", "pk"]

    def __str__(self) -> str:
        return self.label or f"Device {self.pk}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def is_online(self, offline_after: timedelta, now: datetime | None = None) -> bool:
        """Heard from within the department's threshold (Program.device_offline_minutes)."""
        now = now or timezone.now()
        return (
            not self.is_revoked
            and self.last_heartbeat_at is not None
            and now - self.last_heartbeat_at <= offline_after
        )


class ClaimCode(models.Model):
    """A one-time code that pairs a new device with a site: shown to the owner in the portal
    (or printed on the shipment). Only its hash is kept; it works once and expires."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="claim_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    device = models.OneToOneField(
        Device, on_delete=models.SET_NULL, null=True, blank=True, related_name="claim_code"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Claim code for site {self.site_id}"


class Channel(models.Model):
    """A camera channel a device reports (its own key and name), and the site's registered
    camera the owner says it is. Only a mapped channel can ever be watched."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="channels")
    key = models.CharField(max_length=40)
    name = models.CharField(max_length=80, blank=True)
    camera = models.OneToOneField(
        Camera, on_delete=models.SET_NULL, null=True, blank=True, related_name="channel"
    )
    last_reported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["device", "key"]
        constraints = [
            models.UniqueConstraint(fields=["device", "key"], name="one_channel_per_key"),
        ]

    def __str__(self) -> str:
        return f"{self.device} / {self.key}"


class Sharing(models.Model):
    """What the owner shares of one camera, live. No row means off."""

    class Mode(models.TextChoices):
        OFF = "off", _("Off")
        EMERGENCIES = "emergencies", _("Emergencies only")
        SCHEDULED = "scheduled", _("Scheduled hours")
        ALWAYS = "always", _("Always")

    camera = models.OneToOneField(Camera, on_delete=models.CASCADE, related_name="sharing")
    mode = models.CharField(_("sharing"), max_length=12, choices=Mode.choices, default=Mode.OFF)
    # Scheduled hours in the department's time zone:
    # [{"days": [0, 1, 2, 3, 4], "start": "18:00", "end": "07:00"}, ...] (0 is Monday; an end
    # before the start runs past midnight).
    schedule = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.camera}: {self.mode}"


class LivePreferences(models.Model):
    """An owner's live-view switch: the pause of everything at once. How they hear of each
    view of their cameras is their choice of access notices (portal.access_notices)."""

    participant = models.OneToOneField(
        Participant, on_delete=models.CASCADE, related_name="live_preferences"
    )
    paused = models.BooleanField(_("live sharing paused"), default=False)
    paused_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Live preferences of participant {self.participant_id}"


class GrantQuerySet(models.QuerySet["Grant"]):
    def open(self, now: datetime | None = None) -> GrantQuerySet:
        """Grants not ended and not past their expiry: the only ones media is served for."""
        return self.filter(ended_at__isnull=True, expires_at__gt=now or timezone.now())


class Grant(models.Model):
    """A staff member's short permission to watch one camera for one reason. It ends at its
    expiry or earlier (owner's pause or change of mode, sign-out, loss of the capability,
    deactivation, lapsed subscription); renewing opens a new grant with the reason again."""

    class Ended(models.TextChoices):
        CLOSED = "closed", _("Closed by the viewer")
        EXPIRED = "expired", _("Time limit reached")
        OWNER_PAUSED = "owner_paused", _("Owner paused sharing")
        MODE_CHANGED = "mode_changed", _("Owner changed what is shared")
        SIGNED_OUT = "signed_out", _("Viewer signed out")
        CAPABILITY_LOST = "capability_lost", _("Viewer no longer allowed to watch")
        DEACTIVATED = "deactivated", _("Viewer's account deactivated")
        LAPSED = "lapsed", _("Subscription ended")
        DEVICE_REVOKED = "device_revoked", _("Device removed")
        RENEWED = "renewed", _("Renewed")
        SUSPENDED = "suspended", _("Department suspended")

    staff = models.ForeignKey(StaffMember, on_delete=models.PROTECT, related_name="grants")
    # Denormalised for the record (the owner's access page, the audit trail): who and as what.
    staff_email = models.EmailField()
    staff_role = models.CharField(max_length=16)
    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="grants")
    # A reason code from the department's live-view reasons (Program.live_reasons).
    reason = models.CharField(max_length=40)
    emergency = models.BooleanField(default=False)
    case_number = models.CharField(max_length=40)
    note = models.CharField(max_length=500, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_why = models.CharField(max_length=16, choices=Ended.choices, blank=True)
    renewed_from = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="renewal"
    )
    # Media actually served: the first and the latest authorised media request.
    watched_from = models.DateTimeField(null=True, blank=True)
    watched_until = models.DateTimeField(null=True, blank=True)
    # The owner's notice (sent by portal.access_notices, from the grant's LIVE_FEED audit
    # entry): held back until `notice_after` (emergencies only, at most NOTICE_DELAY_MAX after
    # opening). `owner_notified_at` is set only on grants told by live view's former notices.
    notice_after = models.DateTimeField(null=True, blank=True)
    notice_delayed = models.BooleanField(default=False)
    owner_notified_at = models.DateTimeField(null=True, blank=True)
    # The LIVE_FEED entry that recorded the opening: how the owner's notice finds its grant.
    audit_entry_id = models.BigIntegerField(null=True, blank=True, unique=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        indexes = [
            models.Index(
                fields=["camera", "expires_at"],
                name="liveview_grant_open",
                condition=Q(ended_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True, ended_why="")
                | Q(ended_at__isnull=False) & ~Q(ended_why=""),
                name="grant_ended_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Grant {self.pk}: {self.staff_email} on camera {self.camera_id}"

    def is_open(self, now: datetime | None = None) -> bool:
        return self.ended_at is None and self.expires_at > (now or timezone.now())

    @property
    def seconds_watched(self) -> int:
        if self.watched_from is None or self.watched_until is None:
            return 0
        return max(0, round((self.watched_until - self.watched_from).total_seconds()))


class DeviceEvent(models.Model):
    """What happened to a device and what it was refused: pairing, credential rotations and
    revocations, claims with a wrong code, requests with a bad credential. The owner's device
    page and the vendor's support read it."""

    class Kind(models.TextChoices):
        CLAIMED = "claimed", _("Paired with the site")
        CLAIM_REFUSED = "claim_refused", _("Pairing refused")
        ROTATED = "rotated", _("Credential replaced")
        REVOKED = "revoked", _("Device removed")
        REFUSED = "refused", _("Request refused")
        ONLINE = "online", _("Came online")
        OFFLINE = "offline", _("Went silent")
        PAUSED = "paused", _("Paused on the device")
        RESUMED = "resumed", _("Resumed on the device")
        PUBLISH_REFUSED = "publish_refused", _("Stream refused: no grant")

    device = models.ForeignKey(
        Device, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, null=True, blank=True, related_name="device_events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    detail = models.CharField(max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.kind} device {self.device_id}"
