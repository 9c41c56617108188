"""Reads for the department console: the one distance search, used by every page and job."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import ASin, Cos, Floor, Power, Radians, Sin, Sqrt, TruncMonth
from django.utils import timezone

from portal.department.models import AuditEntry
from portal.models import Camera, Participant, Site
from portal.selectors import sites_searchable
from tenants.models import EARTH_RADIUS_M, Program

# Metres per degree of latitude on the same sphere as the haversine below.
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180


def sites_near(
    *, latitude: float, longitude: float, radius_m: float, seen_at: datetime | None = None
) -> QuerySet[Site]:
    """Searchable sites within radius_m of the point, nearest first, each annotated with
    `distance_m` (great-circle, haversine) and `footage_likely`: whether one of its active
    cameras keeps video long enough to still hold `seen_at` (True for all when seen_at is None).

    A bounding box on the (latitude, longitude) index narrows the rows before the exact
    distance is computed, so the search does not scan the table."""
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
        sites_searchable()
        .filter(
            latitude__range=(latitude - lat_delta, latitude + lat_delta),
            longitude__range=(longitude - lng_delta, longitude + lng_delta),
        )
        .annotate(distance_m=distance * Value(1.0, output_field=FloatField()))
        .filter(distance_m__lte=radius_m)
        .order_by("distance_m", "pk")
    )
    if seen_at is None:
        return sites.annotate(footage_likely=Value(True))
    age_days = max((timezone.now() - seen_at).total_seconds() / 86400, 0)
    keeping = Camera.objects.filter(
        site=OuterRef("pk"), paused=False, retention_days__gte=math.ceil(age_days)
    )
    return sites.annotate(footage_likely=Exists(keeping))


@dataclass(frozen=True)
class MapFilters:
    kinds: tuple[str, ...] = ()
    sees: tuple[str, ...] = ()
    participation: tuple[str, ...] = ()
    # "active" (searchable), "paused", "lapsed", or "" for all.
    status: str = "active"


def sites_on_map(filters: MapFilters) -> QuerySet[Site]:
    """The sites the map shows: by default the searchable ones, narrowed by the filters."""
    if filters.status == "active":
        sites = sites_searchable()
    elif filters.status == "paused":
        sites = Site.objects.filter(paused=True)
    elif filters.status == "lapsed":
        sites = Site.objects.exclude(participant__status="active")
    else:
        sites = Site.objects.all()
    if filters.kinds:
        sites = sites.filter(kind__in=filters.kinds)
    if filters.participation:
        sites = sites.filter(participation__in=filters.participation)
    if filters.sees:
        sites = sites.filter(cameras__sees__overlap=list(filters.sees)).distinct()
    return sites


def site_clusters(
    sites: QuerySet[Site], *, south: float, west: float, north: float, east: float, cell_deg: float
) -> list[dict[str, float | int]]:
    """Sites in the box grouped into square cells: count, integrated count, mean position."""
    cell = Value(cell_deg)
    return list(
        sites.filter(latitude__range=(south, north), longitude__range=(west, east))
        .annotate(
            row=Floor(F("latitude") / cell, output_field=IntegerField()),
            column=Floor(F("longitude") / cell, output_field=IntegerField()),
        )
        .values("row", "column")
        .annotate(
            count=Count("pk", distinct=True),
            integrated=Count("pk", distinct=True, filter=Q(participation="integrated")),
            latitude=Avg("latitude"),
            longitude=Avg("longitude"),
        )
        .order_by()
    )


def coverage_gaps(
    program: Program, *, cell_m: int = 1000
) -> list[tuple[float, float, float, float]]:
    """Square cells of the service area with no searchable site: (south, west, north, east)."""
    lat_step = cell_m / METRES_PER_DEGREE
    lng_step = lat_step / max(math.cos(math.radians(program.center_latitude)), 1e-6)
    occupied = {
        (row, column)
        for row, column in sites_searchable()
        .annotate(
            row=Floor((F("latitude") - Value(program.center_latitude)) / Value(lat_step)),
            column=Floor((F("longitude") - Value(program.center_longitude)) / Value(lng_step)),
        )
        .values_list("row", "column")
        .distinct()
    }
    reach = math.ceil(program.service_radius_m / cell_m)
    gaps = []
    for row in range(-reach, reach):
        for column in range(-reach, reach):
            south = program.center_latitude + row * lat_step
            west = program.center_longitude + column * lng_step
            centre = (south + lat_step / 2, west + lng_step / 2)
            if (row, column) not in occupied and program.covers(*centre):
                gaps.append((south, west, south + lat_step, west + lng_step))
    return gaps


def growth_by_month() -> list[tuple[date, int, int]]:
    """(month, sites registered that month, running total) from the first registration on."""
    months = (
        Site.objects.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(count=Count("pk"))
        .order_by("month")
    )
    total, rows = 0, []
    for row in months:
        total += row["count"]
        rows.append((row["month"].date(), row["count"], total))
    return rows


def audit_entries_about(participant: Participant) -> QuerySet[AuditEntry]:
    """What a resident sees of the audit trail: the entries about their own sites, and exports
    of the whole registry (which held their sites too)."""
    return AuditEntry.objects.filter(
        Q(participant_id=participant.pk)
        | Q(action=AuditEntry.Action.EXPORT, site_id__isnull=True, incident__isnull=True)
    ).select_related("incident")
