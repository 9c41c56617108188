"""Reads for the department console: the registry map, its clusters, the dashboard."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Floor, TruncMonth

from portal.registry.models import Camera, Site
from portal.registry.selectors import METRES_PER_DEGREE
from tenants.models import Program


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
        sites = Site.objects.searchable()
    elif filters.status == "paused":
        sites = Site.objects.filter(paused=True)
    elif filters.status == "lapsed":
        sites = Site.objects.lapsed()
    else:
        sites = Site.objects.all()
    if filters.kinds:
        sites = sites.filter(kind__in=filters.kinds)
    if filters.participation:
        sites = sites.filter(participation__in=filters.participation)
    if filters.sees:
        # A paused camera sees nothing for staff.
        seeing = Camera.objects.active().filter(sees__overlap=list(filters.sees))
        sites = sites.filter(Exists(seeing.filter(site=OuterRef("pk"))))
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
        for row, column in Site.objects.searchable()
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
