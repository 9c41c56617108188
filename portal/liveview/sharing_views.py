"""The owner's live-view page (/my/live/): pause everything at once, what each camera of an
integrated site shares and when, whether its device is online, and how the owner is told of
each view. The views translate HTTP to portal.liveview.owner's services."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST, require_safe

from billing.selectors import plans_offered
from portal.liveview.models import Channel, Device, LivePreferences, Sharing
from portal.liveview.owner import (
    SCHEDULE_SPANS_MAX,
    SharingRefused,
    live_pause_set,
    sharing_set,
)
from portal.registry.audit import Actor
from portal.registry.models import Camera, Site
from portal.residents.views import ParticipantRequest, participant_required
from tenants.http import client_ip

WEEKDAYS = [
    (0, _lazy("Monday")),
    (1, _lazy("Tuesday")),
    (2, _lazy("Wednesday")),
    (3, _lazy("Thursday")),
    (4, _lazy("Friday")),
    (5, _lazy("Saturday")),
    (6, _lazy("Sunday")),
]


@dataclass(frozen=True)
class CameraSharing:
    """One camera's row on the page: what it shares, and its device's channel if mapped."""

    camera: Camera
    mode: str
    spans: list[dict[str, object]]
    channel: Channel | None
    online: bool


@dataclass(frozen=True)
class SiteSharing:
    site: Site
    devices: list[Device]
    cameras: list[CameraSharing]


def _actor(request: ParticipantRequest) -> Actor:
    return Actor.of_participant(request.participant, client_ip(request))


def _spans(schedule: list[dict[str, object]]) -> list[dict[str, object]]:
    """The schedule editor's rows: the saved spans, then empty ones up to the maximum."""
    empty: dict[str, object] = {"days": [], "start": "", "end": ""}
    return [*schedule, *([empty] * (SCHEDULE_SPANS_MAX - len(schedule)))][:SCHEDULE_SPANS_MAX]


@require_safe
@participant_required
def live(request: ParticipantRequest) -> HttpResponse:
    participant = request.participant
    program = request.tenant.program
    now = timezone.now()
    offline_after = timedelta(minutes=program.device_offline_minutes)
    preferences = LivePreferences.objects.filter(participant=participant).first()
    sites = list(participant.sites.all())
    integrated = [site for site in sites if site.participation == Site.Participation.INTEGRATED]
    cameras_of: dict[int, list[Camera]] = defaultdict(list)
    for camera in Camera.objects.filter(site__in=integrated).select_related("sharing"):
        cameras_of[camera.site_id].append(camera)
    devices_of: dict[int, list[Device]] = defaultdict(list)
    for device in Device.objects.filter(site__in=integrated, revoked_at__isnull=True):
        devices_of[device.site_id].append(device)
    channels = {
        channel.camera_id: channel
        for channel in Channel.objects.filter(
            camera__site__in=integrated, device__revoked_at__isnull=True
        ).select_related("device")
    }
    rows = []
    for site in integrated:
        cameras = []
        for camera in cameras_of[site.pk]:
            sharing: Sharing | None = getattr(camera, "sharing", None)
            channel = channels.get(camera.pk)
            cameras.append(
                CameraSharing(
                    camera=camera,
                    mode=sharing.mode if sharing else Sharing.Mode.OFF,
                    spans=_spans(sharing.schedule if sharing else []),
                    channel=channel,
                    online=channel is not None and channel.device.is_online(offline_after, now),
                )
            )
        rows.append(SiteSharing(site=site, devices=devices_of[site.pk], cameras=cameras))
    emergency_reasons = [
        str(reason.get("label"))
        for reason in program.live_reasons
        if isinstance(reason, dict) and reason.get("emergency")
    ]
    return render(
        request,
        "liveview/live.html",
        {
            "preferences": preferences,
            "paused": preferences is not None and preferences.paused,
            "rows": rows,
            "registered": [site for site in sites if site not in integrated],
            "devices_offered": plans_offered(request.tenant).exists(),
            "modes": Sharing.Mode,
            "weekdays": WEEKDAYS,
            "emergency_reasons": emergency_reasons,
            "grant_minutes": program.live_grant_minutes,
            "time_zone": request.tenant.time_zone,
        },
    )


@require_POST
@participant_required
def live_pause(request: ParticipantRequest, paused: bool) -> HttpResponse:
    live_pause_set(actor=_actor(request), participant=request.participant, paused=paused)
    if paused:
        messages.success(
            request,
            _(
                "Live sharing is paused for all your cameras: any live view has been stopped, "
                "and nobody can open one until you resume."
            ),
        )
    else:
        messages.success(
            request,
            _("Live sharing is resumed: your cameras share again as set for each one below."),
        )
    return redirect("live_sharing:live")


def _schedule_posted(request: ParticipantRequest) -> list[dict[str, object]]:
    """The schedule editor's rows as posted; a row left blank is no span. Values stay as sent
    (a day that is not a number among them) for the service to refuse with a message."""
    schedule: list[dict[str, object]] = []
    for index in range(SCHEDULE_SPANS_MAX):
        days = request.POST.getlist(f"span-{index}-days")
        start = request.POST.get(f"span-{index}-start", "").strip()
        end = request.POST.get(f"span-{index}-end", "").strip()
        if not days and not start and not end:
            continue
        schedule.append(
            {
                "days": [int(day) if day.isascii() and day.isdigit() else day for day in days],
                "start": start,
                "end": end,
            }
        )
    return schedule


@require_POST
@participant_required
def camera_sharing(request: ParticipantRequest, camera_id: int) -> HttpResponse:
    camera = get_object_or_404(Camera, pk=camera_id, site__participant=request.participant)
    try:
        sharing = sharing_set(
            actor=_actor(request),
            camera=camera,
            mode=request.POST.get("mode", ""),
            schedule=_schedule_posted(request),
        )
    except SharingRefused as refusal:
        messages.error(request, refusal.message)
        return redirect("live_sharing:live")
    messages.success(
        request,
        _("“%(camera)s” now shares: %(mode)s.")
        % {"camera": camera.label, "mode": sharing.get_mode_display()},
    )
    return redirect("live_sharing:live")
