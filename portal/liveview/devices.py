"""The devices owners run at their integrated sites: pairing by one-time claim code, the device
credential (issued, checked, rotated, revoked), heartbeats with the device's channels, the
owner's channel-to-camera map and the offline check. Each write is one transaction; every
refusal that concerns access leaves a DeviceEvent."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.selectors import site_device_subscription
from billing.services import fulfilment_offline, fulfilment_online
from portal.liveview.models import Channel, ClaimCode, Device, DeviceEvent, Grant
from portal.liveview.services import grants_end
from portal.registry.audit import Actor
from portal.registry.emails import email_send
from portal.registry.models import Camera, Site, StaffMember
from tenants.models import current_department

# Claim codes: 12 characters from an alphabet without look-alikes (no 0/O, 1/I/L), shown in
# groups of four. 31^12 codes: guessing one is hopeless within the attempt limit.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12
CODE_LIFETIME = timedelta(days=14)
# Failed claims from one address before it is refused for the rest of the window.
CLAIM_ATTEMPTS = 10
CLAIM_WINDOW = timedelta(minutes=15)

CREDENTIAL_PREFIX = "cvd_"
CREDENTIAL_ID_LENGTH = 16
# How often the bridge should report (it is told in every answer).
HEARTBEAT_SECONDS = 30
# Limits of what a heartbeat may report.
CHANNELS_MAX = 64
# A refusal of a known device is recorded at most this often per device (a misconfigured
# bridge retrying every second must not fill its event list).
REFUSAL_RECORD_EVERY = timedelta(minutes=1)


class DeviceRefused(Exception):
    """A device's request refused, with the plain reason to answer and the HTTP status."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ClaimRefused(DeviceRefused):
    """A claim code refused: unknown or expired (404), already used or site not integrated
    (400), too many failed attempts from the address (429)."""


class DeviceChangeRefused(Exception):
    """An owner's change to a device refused, with the message to show them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- claim codes ------------------------------------------------------------------------------


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def code_normalise(code: str) -> str:
    """A code as typed (any case, dashes or spaces) in the form it is hashed in."""
    return "".join(code.split()).replace("-", "").upper()


def code_format(code: str) -> str:
    return "-".join(code[index : index + 4] for index in range(0, len(code), 4))


@transaction.atomic
def claim_code_issue(*, actor: Actor, site: Site, now: datetime | None = None) -> str:
    """A new one-time claim code for the owner's integrated site, shown once (only its hash is
    kept), good for CODE_LIFETIME. The site's older unused codes stop working."""
    if actor.participant is None or actor.participant.pk != site.participant_id:
        raise PermissionDenied
    site = Site.objects.select_for_update().get(pk=site.pk)
    if site.participation != Site.Participation.INTEGRATED:
        raise DeviceChangeRefused(
            _("Devices pair only with an integrated site: integrate this site first.")
        )
    now = now or timezone.now()
    ClaimCode.objects.filter(site=site, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _index in range(CODE_LENGTH))
    ClaimCode.objects.create(
        site=site, code_hash=sha256_hex(code), created_at=now, expires_at=now + CODE_LIFETIME
    )
    return code_format(code)


def _attempts_key(ip_address: str | None) -> str:
    return f"liveview:claim-failures:{ip_address or 'unknown'}"


def _claim_refused(
    message: str, status: int, *, ip_address: str | None, site: Site | None = None
) -> ClaimRefused:
    """Count a failed claim against the address, record it, and return the refusal."""
    key = _attempts_key(ip_address)
    cache.add(key, 0, timeout=int(CLAIM_WINDOW.total_seconds()))
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=int(CLAIM_WINDOW.total_seconds()))
    DeviceEvent.objects.create(
        kind=DeviceEvent.Kind.CLAIM_REFUSED, site=site, detail=message[:200], ip_address=ip_address
    )
    return ClaimRefused(message, status)


def device_claim(
    *,
    code: str,
    bridge_version: str,
    hostname: str,
    ip_address: str | None,
    now: datetime | None = None,
) -> tuple[Device, str]:
    """Pair a new device with the site a claim code was issued for (in this city's schema
    only: another city's code is unknown here). Returns the device and its credential, which
    is never shown again. Refusals (ClaimRefused) are counted per address and recorded."""
    now = now or timezone.now()
    key = _attempts_key(ip_address)
    if (cache.get(key) or 0) >= CLAIM_ATTEMPTS:
        # Recorded once per window, not once per hammering request.
        if cache.add(f"{key}:recorded", 1, timeout=int(CLAIM_WINDOW.total_seconds())):
            DeviceEvent.objects.create(
                kind=DeviceEvent.Kind.CLAIM_REFUSED,
                detail="Too many failed claims from this address.",
                ip_address=ip_address,
            )
        raise ClaimRefused(
            "Too many failed claim attempts from this address; try again in 15 minutes.", 429
        )
    normalised = code_normalise(code)
    if len(normalised) != CODE_LENGTH or not set(normalised) <= set(CODE_ALPHABET):
        raise _claim_refused(
            "That is not a claim code: it has 12 letters and digits, like K7QX-4M2P-9DHT.",
            400,
            ip_address=ip_address,
        )
    with transaction.atomic():
        claim = (
            ClaimCode.objects.select_for_update(of=("self",))
            .select_related("site")
            .filter(code_hash=sha256_hex(normalised))
            .first()
        )
        refusal: tuple[str, int] | None = None
        if claim is None:
            refusal = ("Unknown claim code: check it against the one shown in the portal.", 404)
        elif claim.used_at is not None:
            refusal = ("This claim code was already used; ask the owner for a new one.", 400)
        elif claim.expires_at <= now:
            refusal = ("This claim code has expired; ask the owner for a new one.", 404)
        elif claim.site.participation != Site.Participation.INTEGRATED:
            refusal = ("This site is no longer integrated; it cannot pair a device.", 400)
        if refusal is None and claim is not None:
            device, credential = _device_create(
                claim.site,
                bridge_version=bridge_version,
                hostname=hostname,
                ip_address=ip_address,
                now=now,
            )
            claim.used_at = now
            claim.device = device
            claim.save(update_fields=["used_at", "device"])
            return device, credential
    assert refusal is not None
    raise _claim_refused(
        refusal[0], refusal[1], ip_address=ip_address, site=claim.site if claim else None
    )


def _secret() -> tuple[str, str]:
    """A new secret and its stored hash."""
    secret = secrets.token_urlsafe(32)
    return secret, sha256_hex(secret)


def _device_create(
    site: Site, *, bridge_version: str, hostname: str, ip_address: str | None, now: datetime
) -> tuple[Device, str]:
    credential_id = secrets.token_urlsafe(12)[:CREDENTIAL_ID_LENGTH]
    secret, secret_hash = _secret()
    device = Device.objects.create(
        site=site,
        label=hostname.strip()[:80],
        credential_id=credential_id,
        credential_hash=secret_hash,
        credential_issued_at=now,
        claimed_at=now,
        claimed_from=ip_address,
        bridge_version=bridge_version.strip()[:40],
    )
    DeviceEvent.objects.create(
        device=device,
        site=site,
        kind=DeviceEvent.Kind.CLAIMED,
        detail=f"Paired as {device.label}"[:200] if device.label else "Paired",
        ip_address=ip_address,
        at=now,
    )
    return device, f"{CREDENTIAL_PREFIX}{credential_id}_{secret}"


# -- credentials ------------------------------------------------------------------------------


def credential_parse(credential: str) -> tuple[str, str] | None:
    """(credential id, secret) of a well-formed credential, else None. The id has a fixed
    length (it may itself contain an underscore)."""
    start = len(CREDENTIAL_PREFIX)
    end = start + CREDENTIAL_ID_LENGTH
    if (
        not credential.startswith(CREDENTIAL_PREFIX)
        or len(credential) < end + 2
        or len(credential) > 200
        or credential[end] != "_"
    ):
        return None
    return credential[start:end], credential[end + 1 :]


def _refusal_record(device: Device, why: str, detail: str, ip_address: str | None) -> None:
    # The cache's keys are the city's own (tenants' KEY_FUNCTION), device ids repeat.
    if cache.add(
        f"liveview:device-refused:{device.pk}:{why}",
        1,
        timeout=int(REFUSAL_RECORD_EVERY.total_seconds()),
    ):
        DeviceEvent.objects.create(
            device=device,
            site_id=device.site_id,
            kind=DeviceEvent.Kind.REFUSED,
            detail=detail[:200],
            ip_address=ip_address,
        )


def device_authenticate(*, credential: str, ip_address: str | None) -> Device:
    """The device a credential belongs to in this city, or DeviceRefused (unknown, revoked or
    wrong secret; a refusal of a known device is recorded as a REFUSED event)."""
    parsed = credential_parse(credential)
    if parsed is None:
        raise DeviceRefused("Malformed device credential.")
    credential_id, secret = parsed
    device = Device.objects.filter(credential_id=credential_id).first()
    if device is None:
        raise DeviceRefused("Unknown device credential.")
    if device.is_revoked:
        _refusal_record(device, "revoked", "Credential of a removed device.", ip_address)
        raise DeviceRefused(
            "This device was removed from its site; pair it again with a new claim code."
        )
    if not hmac.compare_digest(sha256_hex(secret), device.credential_hash):
        _refusal_record(device, "secret", "Wrong credential secret.", ip_address)
        raise DeviceRefused("Wrong device credential.")
    return device


@transaction.atomic
def device_credential_rotate(*, device: Device, ip_address: str | None = None) -> str:
    """A new secret for the device (its id stays): the old credential stops working now."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.is_revoked:
        raise DeviceRefused("This device was removed from its site.")
    secret, secret_hash = _secret()
    device.credential_hash = secret_hash
    device.credential_issued_at = timezone.now()
    device.save(update_fields=["credential_hash", "credential_issued_at"])
    DeviceEvent.objects.create(
        device=device, site_id=device.site_id, kind=DeviceEvent.Kind.ROTATED, ip_address=ip_address
    )
    return f"{CREDENTIAL_PREFIX}{device.credential_id}_{secret}"


def _may_manage(actor: Actor, device: Device) -> bool:
    if actor.participant is not None:
        return actor.participant.pk == device.site.participant_id
    return actor.staff is not None and actor.staff.role == StaffMember.Role.ADMINISTRATOR


@transaction.atomic
def device_revoke(*, actor: Actor, device: Device) -> Device:
    """Remove a device from its site (its owner, or a department administrator): its
    credential is refused from now on, its channels let go of their cameras and every grant
    open on them ends."""
    device = Device.objects.select_for_update().select_related("site").get(pk=device.pk)
    if not _may_manage(actor, device):
        raise PermissionDenied
    if device.is_revoked:
        raise DeviceChangeRefused(_("This device was already removed."))
    grants_end(
        grants=Grant.objects.filter(camera__channel__device=device),
        why=Grant.Ended.DEVICE_REVOKED,
        actor=actor,
    )
    device.revoked_at = timezone.now()
    device.save(update_fields=["revoked_at"])
    device.channels.update(camera=None)
    DeviceEvent.objects.create(
        device=device,
        site_id=device.site_id,
        kind=DeviceEvent.Kind.REVOKED,
        detail=f"Removed by {actor.email}"[:200],
        ip_address=actor.ip_address,
    )
    return device


# -- heartbeats and channels -------------------------------------------------------------------


@dataclass(frozen=True)
class ReportedChannel:
    """A camera channel as the bridge reports it."""

    key: str
    name: str


def channels_check(channels: Sequence[ReportedChannel]) -> None:
    """Refuse (DeviceRefused, 400) a channel list the heartbeat cannot store as it is."""
    if len(channels) > CHANNELS_MAX:
        raise DeviceRefused(f"Report at most {CHANNELS_MAX} channels.", 400)
    keys = [channel.key for channel in channels]
    if len(set(keys)) != len(keys):
        raise DeviceRefused("Each channel key may be reported once.", 400)
    for channel in channels:
        if not channel.key or len(channel.key) > 40 or not channel.key.isprintable():
            raise DeviceRefused("A channel key has 1 to 40 printable characters.", 400)
        if "/" in channel.key or channel.key != channel.key.strip():
            raise DeviceRefused("A channel key may not contain '/' or surrounding spaces.", 400)
        if len(channel.name) > 80 or "\x00" in channel.name:
            raise DeviceRefused("A channel name has at most 80 characters.", 400)


def offline_after() -> timedelta:
    return timedelta(minutes=current_department().program.device_offline_minutes)


@transaction.atomic
def device_heartbeat(
    *,
    device: Device,
    channels: Sequence[ReportedChannel],
    paused: bool,
    bridge_version: str,
    ip_address: str | None,
    now: datetime | None = None,
) -> Device:
    """The device reports in: its channels (new ones added; ones it no longer reports keep
    their camera but show as not reported), its own pause switch and version. Records ONLINE,
    PAUSED and RESUMED when they change; the first heartbeat puts the site's fulfilment online."""
    channels_check(channels)
    now = now or timezone.now()
    device = Device.objects.select_for_update().select_related("site").get(pk=device.pk)
    if device.is_revoked:
        raise DeviceRefused("This device was removed from its site.")
    was_online = device.is_online(offline_after(), now) and device.offline_since is None
    was_offline_reported = device.offline_since is not None
    events: list[DeviceEvent] = []
    if not was_online:
        events.append(DeviceEvent(kind=DeviceEvent.Kind.ONLINE))
    if paused != device.paused_on_device:
        events.append(
            DeviceEvent(kind=DeviceEvent.Kind.PAUSED if paused else DeviceEvent.Kind.RESUMED)
        )
    if paused and not device.paused_on_device:
        # The pause on the box is the owner's pause: whoever watches stops now.
        grants_end(
            grants=Grant.objects.filter(camera__channel__device=device),
            why=Grant.Ended.OWNER_PAUSED,
        )
    first_heartbeat = device.last_heartbeat_at is None
    device.last_heartbeat_at = now
    device.last_heartbeat_from = ip_address
    device.bridge_version = bridge_version.strip()[:40]
    device.paused_on_device = paused
    device.offline_since = None
    device.save(
        update_fields=[
            "last_heartbeat_at",
            "last_heartbeat_from",
            "bridge_version",
            "paused_on_device",
            "offline_since",
        ]
    )
    for event in events:
        event.device, event.site_id, event.ip_address, event.at = (
            device,
            device.site_id,
            ip_address,
            now,
        )
    DeviceEvent.objects.bulk_create(events)
    existing = {channel.key: channel for channel in device.channels.all()}
    for reported in channels:
        channel = existing.get(reported.key)
        if channel is None:
            Channel.objects.create(
                device=device, key=reported.key, name=reported.name, last_reported_at=now
            )
        else:
            channel.name = reported.name
            channel.last_reported_at = now
            channel.save(update_fields=["name", "last_reported_at"])
    if first_heartbeat or was_offline_reported:
        subscription = site_device_subscription(current_department(), device.site_id)
        if subscription is not None:
            fulfilment_online(subscription=subscription, at=now)
    return device


def channel_is_reported(channel: Channel) -> bool:
    """Whether the device's latest heartbeat listed this channel."""
    heard = channel.device.last_heartbeat_at
    return heard is not None and channel.last_reported_at >= heard


@transaction.atomic
def channel_map(*, actor: Actor, channel: Channel, camera: Camera | None) -> Channel:
    """The owner says which of the site's cameras a channel is (None: none). The camera must
    be the owner's, at the device's site, and not already another channel's. Grants on the
    camera the channel was before end (the owner changed what is shared)."""
    channel = (
        Channel.objects.select_for_update(of=("self",))
        .select_related("device__site", "camera")
        .get(pk=channel.pk)
    )
    site = channel.device.site
    if actor.participant is None or actor.participant.pk != site.participant_id:
        raise PermissionDenied
    if channel.device.is_revoked:
        raise DeviceChangeRefused(_("This device was removed: its channels cannot be mapped."))
    if camera is not None:
        camera = Camera.objects.select_related("site").get(pk=camera.pk)
        if camera.site.participant_id != actor.participant.pk:
            raise DeviceChangeRefused(
                _("That camera is not one of yours: map a channel only to your own cameras.")
            )
        if camera.site_id != site.pk:
            raise DeviceChangeRefused(
                _("%(camera)s is at another site: map a channel to a camera of %(address)s.")
                % {"camera": camera.label, "address": site.address}
            )
        taken = Channel.objects.filter(camera=camera).exclude(pk=channel.pk).first()
        if taken is not None:
            raise DeviceChangeRefused(
                _("%(camera)s is already channel %(channel)s: unmap it there first.")
                % {"camera": camera.label, "channel": taken.name or taken.key}
            )
    if channel.camera_id is not None and channel.camera_id != (camera.pk if camera else None):
        grants_end(
            grants=Grant.objects.filter(camera_id=channel.camera_id),
            why=Grant.Ended.MODE_CHANGED,
            actor=actor,
        )
    channel.camera = camera
    channel.save(update_fields=["camera"])
    return channel


# -- offline ----------------------------------------------------------------------------------


def devices_check_offline(*, now: datetime | None = None) -> int:
    """Mark the city's devices silent for longer than its threshold offline (once per outage):
    an OFFLINE event, the site's fulfilment shown offline to the vendor, and an email to the
    owner in their language. Returns how many went offline. Idempotent."""
    now = now or timezone.now()
    threshold = offline_after()
    department = current_department()
    count = 0
    silent = Device.objects.filter(
        revoked_at__isnull=True,
        offline_since__isnull=True,
        last_heartbeat_at__lt=now - threshold,
    ).values_list("pk", flat=True)
    for device_id in list(silent):
        with transaction.atomic():
            device = (
                Device.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("site__participant__user")
                .filter(pk=device_id, offline_since__isnull=True, revoked_at__isnull=True)
                .first()
            )
            if device is None or device.last_heartbeat_at is None:
                continue
            if device.last_heartbeat_at >= now - threshold:
                continue
            device.offline_since = device.last_heartbeat_at + threshold
            device.save(update_fields=["offline_since"])
            DeviceEvent.objects.create(
                device=device,
                site_id=device.site_id,
                kind=DeviceEvent.Kind.OFFLINE,
                detail=f"Silent since {device.last_heartbeat_at:%Y-%m-%d %H:%M} UTC",
                at=now,
            )
            subscription = site_device_subscription(department, device.site_id)
            if subscription is not None:
                fulfilment_offline(subscription=subscription, since=device.offline_since)
            participant = device.site.participant
            # Told once the outage is recorded (not for a rolled-back one).
            transaction.on_commit(
                partial(
                    email_send,
                    template="liveview/email/device_offline",
                    to=participant.user.email,
                    language=participant.language,
                    context={
                        "site": device.site,
                        "device": device,
                        "devices_url": department.url(f"/my/sites/{device.site_id}/devices/"),
                    },
                    department=department,
                )
            )
            count += 1
    return count


# -- reads ------------------------------------------------------------------------------------

RECENT_EVENTS = 20


@dataclass(frozen=True)
class DeviceRow:
    """A device as its owner's page shows it."""

    device: Device
    online: bool
    channels: list[tuple[Channel, bool]]
    events: list[DeviceEvent]


def site_devices(site: Site, *, now: datetime | None = None) -> list[DeviceRow]:
    """The site's devices still paired, each with whether it is online, its channels (and
    whether the last heartbeat reported each) and its recent events."""
    threshold = offline_after()
    rows = []
    paired = site.devices.filter(revoked_at__isnull=True).prefetch_related("channels__camera")
    for device in paired:
        rows.append(
            DeviceRow(
                device=device,
                online=device.is_online(threshold, now) and device.offline_since is None,
                channels=[
                    (channel, channel_is_reported(channel)) for channel in device.channels.all()
                ],
                events=list(device.events.all()[:RECENT_EVENTS]),
            )
        )
    return rows
