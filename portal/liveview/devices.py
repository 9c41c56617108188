"""Device credentials: `cvd_<credential_id>_<secret>`, of which only sha256(secret) is kept.

(Helper H1 owns this module and its pairing services; this is the shared contract's
authentication alone, so that the media authorisation can use it. On merge, H1's version
replaces this one.)"""

from __future__ import annotations

import hashlib
import hmac

from django.utils import timezone

from portal.liveview.models import Device, DeviceEvent

CREDENTIAL_PREFIX = "cvd_"
CREDENTIAL_ID_LENGTH = 16


class DeviceRefused(Exception):
    """A device credential that is not accepted, with the reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def credential_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def device_authenticate(*, credential: str, ip_address: str | None) -> Device:
    """The device a credential belongs to; DeviceRefused (and a REFUSED event on a known
    device) when it is unknown, wrong or revoked."""
    if not credential.startswith(CREDENTIAL_PREFIX):
        raise DeviceRefused("unknown device credential")
    body = credential[len(CREDENTIAL_PREFIX) :]
    credential_id, secret = body[:CREDENTIAL_ID_LENGTH], body[CREDENTIAL_ID_LENGTH + 1 :]
    if (
        len(credential_id) != CREDENTIAL_ID_LENGTH
        or body[CREDENTIAL_ID_LENGTH : CREDENTIAL_ID_LENGTH + 1] != "_"
    ):
        raise DeviceRefused("unknown device credential")
    device = Device.objects.filter(credential_id=credential_id).first()
    if device is None:
        raise DeviceRefused("unknown device credential")
    if not hmac.compare_digest(credential_hash(secret), device.credential_hash):
        _refused(device, "wrong secret", ip_address)
        raise DeviceRefused("wrong device credential")
    if device.is_revoked:
        _refused(device, "revoked", ip_address)
        raise DeviceRefused("device revoked")
    return device


def _refused(device: Device, detail: str, ip_address: str | None) -> None:
    DeviceEvent.objects.create(
        device=device,
        site_id=device.site_id,
        kind=DeviceEvent.Kind.REFUSED,
        detail=detail,
        ip_address=ip_address,
        at=timezone.now(),
    )
