"""The authorisation of each media request: the relay asks here for every viewer, publisher and
bridge (MediaMTX's `authMethod: http` shape), and the browser's media token for one grant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db import connection
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.utils import timezone

from portal.liveview.devices import DeviceRefused, device_authenticate
from portal.liveview.models import Channel, DeviceEvent, Grant
from portal.liveview.services import GRANT_CHECK_RELATED, grant_why_stopped, grants_end
from tenants.db import tenant_connection


def _media_salt() -> str:
    # The city's schema in the salt: a token made on one city's host is useless on another's,
    # where the same grant and camera ids exist.
    return f"canvass.liveview.media:{tenant_connection.schema_name}"


def media_token(grant: Grant) -> str:
    """The browser's credential for one grant's media: signed for this city, naming the grant,
    its camera and its viewer; good while the grant is open (checked at each request)."""
    payload = {"g": grant.pk, "c": grant.camera_id, "u": grant.staff.user_id}
    return signing.dumps(payload, salt=_media_salt(), compress=False)


class MediaRefused(Exception):
    """A media request the relay must refuse: 401 for a bad key, credential or token, 403 for
    a valid one that is not allowed now; `message` is plain English (the relay logs it)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


CAMERA_PATH = re.compile(r"camera/([1-9][0-9]{0,17})")
PUBLISHER_PATH = re.compile(r"device/([1-9][0-9]{0,17})/([A-Za-z0-9_.~-]{1,40})")
DEVICE_PATH = re.compile(r"device/([1-9][0-9]{0,17})")
WATCHED_UPDATE = (
    f"UPDATE {Grant._meta.db_table} SET watched_from = COALESCE(watched_from, %s), "
    "watched_until = %s WHERE id = %s AND ended_at IS NULL"
)
# A device refused a stream is recorded at most this often (the relay asks every second).
PUBLISH_REFUSED_EVERY = timedelta(minutes=1)


def media_authorize(
    *,
    action: str,
    path: str,
    token: str = "",
    credential: str = "",
    ip_address: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Whether the relay may serve one media request (MediaMTX's `authMethod: http` actions):
    "read" a camera's picture with a media token, "publish" a channel with a device credential
    (only while a grant for its camera is open), "control" a bridge's connection. Returns the
    answer's JSON; raises MediaRefused. Each authorised read marks the grant watched."""
    now = now or timezone.now()
    path = path.strip("/")
    if action == "read":
        return _read(token=token, path=path, ip_address=ip_address, now=now)
    if action == "publish":
        return _publish(credential=credential, path=path, ip_address=ip_address, now=now)
    if action == "control":
        device = _device(credential, ip_address)
        match = DEVICE_PATH.fullmatch(path)
        if path and (match is None or int(match.group(1)) != device.pk):
            raise MediaRefused(403, "path is not this device's")
        return {"device": device.pk}
    raise MediaRefused(403, "unknown action")


@dataclass(frozen=True)
class _CompiledRead:
    """The grant's read with everything the check needs (GRANT_CHECK_RELATED), compiled once
    per database connection: the relay asks every second for every viewer, and compiling its
    ten joins was 42% of the check. The SQL names its tables without a schema, so the same text
    serves every city (the connection's search_path picks the schema)."""

    sql: str
    keys: tuple[int, int, int]  # where the grant, camera and user ids go in the parameters
    params: tuple[Any, ...]
    compiler: Any
    init_list: tuple[str, ...]
    fields: slice
    converters: Any


_KEYS = (-7001, -7002, -7003)  # stand-ins, found again in the compiled parameters


def _compiled_read() -> _CompiledRead:
    compiled = getattr(connection, "_canvass_grant_read", None)
    if compiled is None:
        query = (
            Grant.objects.select_related(*GRANT_CHECK_RELATED)
            .filter(pk=_KEYS[0], camera_id=_KEYS[1], staff__user_id=_KEYS[2])
            .order_by()[:1]
            .query
        )
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        klass_info = compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        compiled = _CompiledRead(
            sql=sql,
            keys=tuple(params.index(key) for key in _KEYS),
            params=tuple(params),
            compiler=compiler,
            init_list=tuple(f[0].target.attname for f in compiler.select[start:end]),
            fields=slice(start, end),
            converters=compiler.get_converters(
                [s[0] for s in compiler.select[: compiler.col_count]]
            ),
        )
        connection._canvass_grant_read = compiled  # type: ignore[attr-defined]
    return compiled


def _grant_checked(grant_id: int, camera_id: int, user_id: int) -> Grant | None:
    """Grant.objects.select_related(*GRANT_CHECK_RELATED).filter(pk=..., camera_id=...,
    staff__user_id=...).first(), from the query compiled once (what Django's ModelIterable
    does with a row, without compiling the SQL again)."""
    compiled = _compiled_read()
    params = list(compiled.params)
    for position, value in zip(compiled.keys, (grant_id, camera_id, user_id), strict=True):
        params[position] = value
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    if compiled.converters:
        row = next(iter(compiled.compiler.apply_converters([row], compiled.converters)))
    db = connection.alias
    grant = Grant.from_db(db, list(compiled.init_list), row[compiled.fields])
    for populator in get_related_populators(
        compiled.compiler.klass_info, compiled.compiler.select, db
    ):
        populator.populate(row, grant)
    return grant


def _read(*, token: str, path: str, ip_address: str | None, now: datetime) -> dict[str, Any]:
    try:
        payload = signing.loads(token, salt=_media_salt())
    except signing.BadSignature as error:
        raise MediaRefused(401, "invalid media token") from error
    if not isinstance(payload, dict) or not all(
        isinstance(payload.get(key), int) and not isinstance(payload.get(key), bool)
        for key in ("g", "c", "u")
    ):
        raise MediaRefused(401, "invalid media token")
    match = CAMERA_PATH.fullmatch(path)
    if match is None or int(match.group(1)) != payload["c"]:
        raise MediaRefused(403, "media token is for another camera")
    grant = _grant_checked(payload["g"], payload["c"], payload["u"])
    if grant is None:
        raise MediaRefused(401, "invalid media token")
    # The token works from the address the grant was opened from: copied to another machine
    # (another user, a shared link), it is refused. A viewer whose address changes renews.
    if ip_address and grant.ip_address and ip_address != grant.ip_address:
        raise MediaRefused(403, "media token used from another address than the grant's")
    why = grant_why_stopped(grant, now=now)
    if why is not None:
        if why and grant.ended_at is None:
            grants_end(grants=Grant.objects.filter(pk=grant.pk), why=why)
        raise MediaRefused(403, f"grant ended: {why}" if why else "camera not available now")
    channel: Channel = grant.camera.channel
    # One UPDATE marks what was served: from the first authorised request to this one. Its
    # text is fixed (the relay asks every second for every viewer): no ORM compilation.
    with connection.cursor() as cursor:
        cursor.execute(WATCHED_UPDATE, [now, now, grant.pk])
    return {
        "grant": grant.pk,
        "publisher": f"device/{channel.device_id}/{channel.key}",
        "device": channel.device_id,
        "channel": channel.key,
        "expires_at": grant.expires_at.isoformat(),
    }


def _device(credential: str, ip_address: str | None) -> Any:
    try:
        return device_authenticate(credential=credential, ip_address=ip_address)
    except DeviceRefused as error:
        raise MediaRefused(401, error.message or "device refused") from error


def _publish(
    *, credential: str, path: str, ip_address: str | None, now: datetime
) -> dict[str, Any]:
    device = _device(credential, ip_address)
    match = PUBLISHER_PATH.fullmatch(path)
    if match is None or int(match.group(1)) != device.pk:
        raise MediaRefused(403, "path is not this device's")
    camera_id = (
        Channel.objects.filter(device=device, key=match.group(2), camera__isnull=False)
        .values_list("camera_id", flat=True)
        .first()
    )
    grants = (
        Grant.objects.open(now)
        .filter(camera_id=camera_id)
        .select_related(*GRANT_CHECK_RELATED)
        .order_by("opened_at", "pk")
        if camera_id is not None
        else Grant.objects.none()
    )
    for grant in grants:
        why = grant_why_stopped(grant, now=now)
        if why is None:
            return {"grant": grant.pk}
        if why:
            grants_end(grants=Grant.objects.filter(pk=grant.pk), why=why)
    recent = DeviceEvent.objects.filter(
        device=device, kind=DeviceEvent.Kind.PUBLISH_REFUSED, at__gt=now - PUBLISH_REFUSED_EVERY
    )
    if not recent.exists():
        DeviceEvent.objects.create(
            device=device,
            site_id=device.site_id,
            kind=DeviceEvent.Kind.PUBLISH_REFUSED,
            detail=f"channel {match.group(2)}"[:200],
            ip_address=ip_address,
            at=now,
        )
    raise MediaRefused(403, "no open grant for this channel")
