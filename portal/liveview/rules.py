"""The one rule for "staff may watch this camera now": what the owner, the device and the
department's settings allow at this moment. Grants, the media relay's checks, the staff lists
and the owner's pages all ask here."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.liveview.models import Channel, Device, LivePreferences, Sharing
from portal.registry.models import Camera, Site
from tenants.models import Program, current_department


@dataclass(frozen=True)
class LiveState:
    """Whether staff may watch a camera now and, when not, why (in the user's language, and as
    a code for what a refusal ends: see services.ENDED_BY). The device and channel that would
    carry the picture, when there is one."""

    shareable: bool
    why_not: str = ""
    code: str = ""
    device: Device | None = None
    channel: Channel | None = None
    # The owner shares this camera in emergencies only (an emergency reason is needed).
    emergency_only: bool = False


# LiveState.code values: what stops a camera from being watched.
NOT_INTEGRATED = "not_integrated"
SITE_PAUSED = "site_paused"
CAMERA_PAUSED = "camera_paused"
LAPSED = "lapsed"
OWNER_PAUSED = "owner_paused"
NO_CHANNEL = "no_channel"
DEVICE_REVOKED = "device_revoked"
DEVICE_OFFLINE = "device_offline"
DEVICE_PAUSED = "device_paused"
SHARING_OFF = "sharing_off"
EMERGENCY_ONLY = "emergency_only"
OUTSIDE_HOURS = "outside_hours"


def camera_live_state(
    camera: Camera,
    *,
    now: datetime | None = None,
    emergency: bool | None = None,
    program: Program | None = None,
    time_zone: str | None = None,
) -> LiveState:
    """THE rule. `emergency` is the reason's flag (Program.live_reasons): True or False for a
    grant's reason; None asks whether the camera may be opened with some reason (a camera
    shared in emergencies only then counts, marked emergency_only). `program` and `time_zone`
    default to the current department's (pass them when checking many cameras).

    Load cameras with `select_related(*LIVE_STATE_RELATED)` to answer without more queries."""
    now = now or timezone.now()
    if program is None or time_zone is None:
        department = current_department()
        program = program or department.program
        time_zone = time_zone or department.time_zone
    site: Site = camera.site
    if site.participation != Site.Participation.INTEGRATED:
        return LiveState(False, _("This site is not integrated for live view."), NOT_INTEGRATED)
    if not site.participant.is_confirmed:
        return LiveState(False, _("The owner's registration is not confirmed."), LAPSED)
    if site.paused:
        return LiveState(False, _("The owner paused this site."), SITE_PAUSED)
    if camera.paused:
        return LiveState(False, _("The owner paused this camera."), CAMERA_PAUSED)
    preferences: LivePreferences | None = _related(site.participant, "live_preferences")
    if preferences is not None and preferences.paused:
        return LiveState(False, _("The owner paused live sharing."), OWNER_PAUSED)
    channel: Channel | None = _related(camera, "channel")
    if channel is None:
        return LiveState(False, _("No device channel is linked to this camera."), NO_CHANNEL)
    device = channel.device
    if device.is_revoked:
        return LiveState(False, _("The site's device was removed."), DEVICE_REVOKED)
    if not device.is_online(timedelta(minutes=program.device_offline_minutes), now):
        return LiveState(False, _("The site's device is offline."), DEVICE_OFFLINE)
    if device.paused_on_device:
        return LiveState(False, _("The owner paused sharing on the device."), DEVICE_PAUSED)
    sharing: Sharing | None = _related(camera, "sharing")
    mode = sharing.mode if sharing is not None else Sharing.Mode.OFF
    if mode == Sharing.Mode.OFF:
        return LiveState(False, _("The owner does not share this camera live."), SHARING_OFF)
    if not sharing_allows(sharing, now=now, time_zone=time_zone, emergency=emergency):
        if mode == Sharing.Mode.EMERGENCIES:
            return LiveState(
                False, _("The owner shares this camera in emergencies only."), EMERGENCY_ONLY
            )
        return LiveState(
            False, _("The owner shares this camera only in scheduled hours."), OUTSIDE_HOURS
        )
    return LiveState(
        True, device=device, channel=channel, emergency_only=mode == Sharing.Mode.EMERGENCIES
    )


# What camera_live_state reads, for select_related from a Camera.
LIVE_STATE_RELATED = (
    "site__participant__live_preferences",
    "channel__device",
    "sharing",
)


def sharing_allows(
    sharing: Sharing | None, *, now: datetime, time_zone: str, emergency: bool | None
) -> bool:
    """Whether the owner's sharing mode lets staff watch at `now`: never when off, always when
    always, for an emergency reason (or the question "for any reason?", emergency=None) when
    emergencies only, and within one of the scheduled spans, read in the department's time
    zone (a span whose end is not after its start runs past midnight into the next day)."""
    if sharing is None:
        return False
    if sharing.mode == Sharing.Mode.ALWAYS:
        return True
    if sharing.mode == Sharing.Mode.EMERGENCIES:
        return emergency is not False
    if sharing.mode == Sharing.Mode.SCHEDULED:
        local = now.astimezone(zoneinfo.ZoneInfo(time_zone))
        return any(_in_span(span, local) for span in sharing.schedule or [])
    return False


def _in_span(span: Any, local: datetime) -> bool:
    """Whether a local time falls in one span {"days": [0..6], "start": "HH:MM", "end":
    "HH:MM"} (0 is Monday). A span starting late and ending early belongs to its start's day:
    Friday 22:00-06:00 covers Saturday morning, not Friday morning."""
    try:
        days = {int(day) for day in span["days"]}
        start = time.fromisoformat(str(span["start"]))
        end = time.fromisoformat(str(span["end"]))
    except (KeyError, TypeError, ValueError):
        return False  # a malformed span shares nothing
    moment = local.time().replace(tzinfo=None)
    weekday = local.weekday()
    if start < end:
        return weekday in days and start <= moment < end
    # Past midnight (or a whole day when start == end).
    yesterday = (weekday - 1) % 7
    return (weekday in days and moment >= start) or (yesterday in days and moment < end)


def _related(instance: object, name: str) -> Any:
    """A reverse one-to-one relation's row, or None when there is none."""
    try:
        return getattr(instance, name)
    except ObjectDoesNotExist:
        return None
