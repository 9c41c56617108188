"""Live view's pieces in the department's pages: the "Live cameras (N)" link on the map and an
incident, and the dashboard's count of live views. Shown only to staff who may watch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from portal.liveview import selectors
from portal.registry.models import Capability

register = template.Library()

DASHBOARD_DAYS = 30


def _may_watch(context: template.Context) -> bool:
    staff = getattr(context.get("request"), "staff", None)
    return staff is not None and staff.can(Capability.LIVE_VIEW)


@register.inclusion_tag("liveview/_live_link.html", takes_context=True)
def live_cameras_link(context: template.Context, incident: Any = None) -> dict[str, Any]:
    """The link to the cameras staff may open now (near the incident, when given), with how
    many there are."""
    if not _may_watch(context):
        return {"live_link": None}
    url = reverse("department:live_cameras")
    if incident is not None:
        cameras = selectors.live_cameras(
            latitude=incident.latitude,
            longitude=incident.longitude,
            radius_m=incident.search_radius_m,
        )
        url = f"{url}?incident={incident.pk}"
    else:
        cameras = selectors.live_cameras()
    return {"live_link": {"url": url, "count": len(cameras)}}


@register.inclusion_tag("liveview/_dashboard.html")
def live_views_summary() -> dict[str, Any]:
    """Live views opened in the last 30 days and the seconds of video they were served."""
    since = timezone.now() - timedelta(days=DASHBOARD_DAYS)
    return {"live_views": selectors.live_views_count(since=since)}
