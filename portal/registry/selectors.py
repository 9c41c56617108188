"""Reads of the registry shared by both consoles, exports and jobs: the one distance search and
what a resident sees of the audit trail."""

from __future__ import annotations

import math
from datetime import datetime

from django.db.models import (
    BooleanField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt
from django.utils import timezone

from portal.registry.models import (
    AuditEntry,
    Camera,
    Participant,
    Site,
    SiteQuerySet,
    site_location,
)
from tenants.models import EARTH_RADIUS_M

# Metres per degree of latitude on the same sphere as the haversine below.
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180


class LocatedIn(Func):
    """Whether a site's point lies in the box (south, west, north, east): `<@`, the question
    the location index (Site.Meta.indexes, GiST) answers."""

    template = "%(expressions)s"
    arg_joiner = " <@ "
    output_field = BooleanField()

    def __init__(self, south: float, west: float, north: float, east: float) -> None:
        corner: FloatField[float, float] = FloatField()
        box = Func(
            Func(Value(west), Value(south), function="point", output_field=corner),
            Func(Value(east), Value(north), function="point", output_field=corner),
            function="box",
            output_field=corner,
        )
        super().__init__(site_location(), box)


def sites_near(
    *, latitude: float, longitude: float, radius_m: float, seen_at: datetime | None = None
) -> SiteQuerySet:
    """Searchable sites within radius_m of the point, nearest first, each annotated with
    `distance_m` (great-circle, haversine) and `footage_likely`: whether one of its active
    cameras keeps video long enough to still hold `seen_at` (True for all when seen_at is None).

    The box around the circle is answered by the location index (GiST, at any radius) before
    the exact distance is computed, so the search never scans the table. Sites join their
    owners one by one (a nested loop on the owner's key): the box's estimate is small, and the
    planner then never hashes every participant of the city for a few dozen sites."""
    lat_delta = radius_m / METRES_PER_DEGREE
    cos_lat = max(math.cos(math.radians(latitude)), 1e-6)
    lng_delta = min(radius_m / (METRES_PER_DEGREE * cos_lat), 180.0)
    phi = math.radians(latitude)
    distance = (
        2
        * EARTH_RADIUS_M
        * ASin(
            Sqrt(
                Power(Sin((Radians(F("latitude")) - Value(phi)) / 2), 2)
                + Value(math.cos(phi))
                * Cos(Radians(F("latitude")))
                * Power(Sin((Radians(F("longitude")) - Value(math.radians(longitude))) / 2), 2)
            )
        )
    )
    sites = (
        Site.objects.searchable()
        .filter(
            LocatedIn(
                latitude - lat_delta,
                longitude - lng_delta,
                latitude + lat_delta,
                longitude + lng_delta,
            )
        )
        .annotate(distance_m=distance * Value(1.0, output_field=FloatField()))
        .filter(distance_m__lte=radius_m)
        .order_by("distance_m", "pk")
    )
    if seen_at is None:
        return sites.annotate(footage_likely=Value(True))
    age_days = max((timezone.now() - seen_at).total_seconds() / 86400, 0)
    keeping = Camera.objects.active().filter(
        site=OuterRef("pk"), retention_days__gte=math.ceil(age_days)
    )
    return sites.annotate(footage_likely=Exists(keeping))


def nearness(site: Site) -> tuple[float, bool]:
    """What sites_near() annotated a site with: its distance in metres and whether footage
    from the searched time should still exist (query annotations, unknown to the model)."""
    return float(site.__dict__["distance_m"]), bool(site.__dict__["footage_likely"])


def audit_entries_about(participant: Participant) -> QuerySet[AuditEntry]:
    """What a resident sees of the audit trail: the entries about their own sites, and exports
    of the whole registry (which held their sites too)."""
    return AuditEntry.objects.filter(
        Q(participant_id=participant.pk)
        | Q(action=AuditEntry.Action.EXPORT, site_id__isnull=True, incident_id__isnull=True)
    )
