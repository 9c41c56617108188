"""Live view's reads: the cameras staff may open now, the grants open for a staff member, the
views of an owner's cameras, and the dashboard's count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count as CountOf
from django.db.models import (
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from portal.liveview.models import Channel, Device, Grant, Sharing
from portal.liveview.rules import LIVE_STATE_RELATED, camera_live_state
from portal.registry.models import Camera, Site, StaffMember
from portal.registry.selectors import sites_near_among
from tenants.compiled import CompiledQuery
from tenants.models import current_department


@dataclass(frozen=True)
class LiveCamera:
    """A camera staff may open right now, with what carries its picture, and its distance in
    metres from the searched point (None without one)."""

    camera: Camera
    site: Site
    device: Device
    channel: Channel
    distance_m: float | None
    emergency_only: bool


def shared_cameras() -> QuerySet[Camera]:
    """The cameras that could be live at some time: on a channel, at an integrated site, and
    shared in some mode (camera_live_state then says whether they are now)."""
    return Camera.objects.filter(
        channel__isnull=False,
        site__participation=Site.Participation.INTEGRATED,
        sharing__mode__in=[mode for mode in Sharing.Mode.values if mode != Sharing.Mode.OFF],
    )


# The sites of shared_cameras(), kept compiled (tenants.compiled): asked on every canvass page.
SHARED_CAMERA_SITES = CompiledQuery(
    lambda: shared_cameras().order_by().values_list("site_id").distinct()
)


def live_cameras(
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    radius_m: float | None = None,
    now: datetime | None = None,
) -> list[LiveCamera]:
    """The cameras staff may open right now (rules.camera_live_state for some reason), nearest
    first within radius_m of the point when one is given (portal.registry.selectors.sites_near,
    the one distance search), else by site and camera."""
    near: dict[int, float] | None = None  # the distances of the sites near the point
    if latitude is not None and longitude is not None and radius_m is not None:
        # The sites with a camera that could be live are few (integrated, mapped, shared): found
        # first, so that a city or a radius without any searches no distances at all (this link
        # shows on every canvass page), and the distance search reads only those sites.
        live_site_ids = {site_id for (site_id,) in SHARED_CAMERA_SITES.rows()}
        if not live_site_ids:
            return []
        near = sites_near_among(
            sorted(live_site_ids), latitude=latitude, longitude=longitude, radius_m=radius_m
        )
    now = now or timezone.now()
    department = current_department()
    program = department.program
    cameras = shared_cameras().select_related(*LIVE_STATE_RELATED).order_by("site_id", "pk")
    if near is not None:
        cameras = cameras.filter(site_id__in=list(near))
    distances = near or {}
    found = []
    for camera in cameras:
        state = camera_live_state(
            camera, now=now, emergency=None, program=program, time_zone=department.time_zone
        )
        if state.shareable and state.device is not None and state.channel is not None:
            found.append(
                LiveCamera(
                    camera=camera,
                    site=camera.site,
                    device=state.device,
                    channel=state.channel,
                    distance_m=distances.get(camera.site_id),
                    emergency_only=state.emergency_only,
                )
            )
    if distances:
        found.sort(key=lambda live: (live.distance_m or 0.0, live.site.pk, live.camera.pk))
    return found


def grants_open_for(staff: StaffMember, now: datetime | None = None) -> QuerySet[Grant]:
    """The staff member's grants still open (not ended, not expired), newest first."""
    return Grant.objects.open(now).filter(staff=staff).select_related("camera__site")


@dataclass(frozen=True)
class LiveViewsCount:
    views: int
    seconds_watched: int


def grant_open_duration(now: datetime) -> ExpressionWrapper:
    """How long a grant let staff watch, as a query expression: from its opening to its end,
    its expiry, or `now` if still open, whichever came first (the one rule the transparency
    page and the council reports count live-view minutes by)."""
    return ExpressionWrapper(
        Least(Coalesce("ended_at", "expires_at"), F("expires_at"), Value(now)) - F("opened_at"),
        output_field=DurationField(),
    )


def live_views_count(*, since: datetime) -> LiveViewsCount:
    """How many live views were opened since `since` and how many seconds of video they were
    served (renewals count as views of their own: each needed its reason again)."""
    watched = ExpressionWrapper(F("watched_until") - F("watched_from"), DurationField())
    totals = Grant.objects.filter(opened_at__gte=since).aggregate(
        views=CountOf("pk"),
        watched=Sum(watched, filter=Q(watched_from__isnull=False, watched_until__isnull=False)),
    )
    seconds = round(totals["watched"].total_seconds()) if totals["watched"] else 0
    return LiveViewsCount(views=totals["views"], seconds_watched=max(0, seconds))
