"""Reads for the department console: the registry map, its clusters, the dashboard."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import (
    Avg,
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import Floor, TruncMonth

from portal.department.models import CanvassEntry, Incident
from portal.registry.models import Camera, Site, SiteQuerySet, email_deliverable_condition
from portal.registry.selectors import METRES_PER_DEGREE, sites_near
from tenants.models import Program


@dataclass(frozen=True)
class CanvassSite:
    """One searchable site of a canvass, with only what the page and the export show of it
    (plain values: a canvass lists hundreds of sites, and a model instance each costs more
    than the query). `pk` and `participant_id` name it in the audit trail."""

    number: int
    pk: int
    participant_id: int
    address: str
    kind: str
    participation: str
    latitude: float
    longitude: float
    distance_m: float
    footage_likely: bool
    # The owner's address was reported undeliverable (portal.registry.bounces): call instead.
    email_undeliverable: bool


@dataclass(frozen=True)
class Canvass:
    """Part of a canvass, nearest first (`sites` from the `offset`-th on), and how many sites
    the whole canvass holds."""

    sites: list[CanvassSite]
    total: int


CANVASS_COLUMNS = (
    "pk",
    "participant_id",
    "address",
    "kind",
    "participation",
    "latitude",
    "longitude",
    "distance_m",
    "footage_likely",
    "email_undeliverable",
)


def canvass_search(incident: Incident) -> SiteQuerySet:
    """The distance search behind an incident's canvass (sites_near at its search radius),
    each site marked whether its owner's email is undeliverable."""
    return sites_near(
        latitude=incident.latitude,
        longitude=incident.longitude,
        radius_m=incident.search_radius_m,
        seen_at=None if incident.skips_retention else incident.starts_at,
    ).annotate(
        email_undeliverable=ExpressionWrapper(
            ~email_deliverable_condition("participant__"), output_field=BooleanField()
        )
    )


def canvass_counted(sites: SiteQuerySet) -> QuerySet[Site, tuple[object, ...]]:
    """The canvass's columns, each row with the number of sites in the whole canvass."""
    return sites.annotate(total=Window(Count("pk"))).values_list(*CANVASS_COLUMNS, "total")


def canvass(incident: Incident, *, offset: int = 0, limit: int | None = None) -> Canvass:
    """The incident's canvass: the searchable sites within its search radius (sites_near),
    nearest first, from `offset` on (`limit` of them, or all). One query, counting the whole
    canvass as it reads the part asked for."""
    sites = canvass_search(incident)
    if limit is None:
        rows = list(sites.values_list(*CANVASS_COLUMNS)[offset:])
        total = offset + len(rows)
    else:
        counted = sites.annotate(total=Window(Count("pk"))).values_list(*CANVASS_COLUMNS, "total")
        rows = list(counted[offset : offset + limit])
        total = rows[0][-1] if rows else sites.count()
    return Canvass(
        sites=[
            CanvassSite(offset + number, *row[: len(CANVASS_COLUMNS)])
            for number, row in enumerate(rows, start=1)
        ],
        total=total,
    )


@dataclass(frozen=True)
class CameraView:
    """What a canvass shows of an active camera: where it looks, what, for how long."""

    direction: int
    sees: list[str]
    retention_days: int


def canvass_cameras(site_ids: Sequence[int]) -> dict[int, list[CameraView]]:
    """The active cameras of these sites, by site, in one query."""
    cameras: dict[int, list[CameraView]] = defaultdict(list)
    for site_id, direction, sees, retention_days in (
        Camera.objects.active()
        .filter(site_id__in=site_ids)
        .order_by("site_id", "pk")
        .values_list("site_id", "direction", "sees", "retention_days")
    ):
        cameras[site_id].append(CameraView(direction, sees, retention_days))
    return cameras


def canvass_camera_counts(site_ids: Sequence[int]) -> dict[int, int]:
    """How many active cameras each of these sites has, in one grouped query."""
    return dict(
        Camera.objects.active()
        .filter(site_id__in=site_ids)
        .order_by()
        .values("site_id")
        .annotate(count=Count("pk"))
        .values_list("site_id", "count")
    )


def canvass_entries(incident: Incident) -> dict[int, tuple[str, str]]:
    """Where contact with each owner stands in this canvass: (state, notes) by site."""
    return {
        site_id: (state, notes)
        for site_id, state, notes in CanvassEntry.objects.filter(incident=incident).values_list(
            "site_id", "state", "notes"
        )
    }


@dataclass(frozen=True)
class MapFilters:
    kinds: tuple[str, ...] = ()
    sees: tuple[str, ...] = ()
    participation: tuple[str, ...] = ()
    # "active" (searchable), "paused", "lapsed", or "" for all.
    status: str = "active"


def sites_on_map(filters: MapFilters) -> SiteQuerySet:
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


@dataclass(frozen=True)
class Grid:
    """The coarse grid (about 100 m) that positions are snapped to for staff who may not see
    exact homes, and for every cluster. It is fixed per department (its longitude step is set
    at the service area's centre), so that no two requests snap to different grids whose
    overlap would narrow a position down."""

    lat_step: float
    lng_step: float

    METRES = 100

    @classmethod
    def of(cls, program: Program) -> Grid:
        lat_step = cls.METRES / METRES_PER_DEGREE
        cos_lat = max(math.cos(math.radians(program.center_latitude)), 1e-6)
        return cls(lat_step, lat_step / cos_lat)

    def centre(self, row: int, column: int) -> tuple[float, float]:
        """The centre of a grid cell, the only position given for anything inside it."""
        return (
            round((row + 0.5) * self.lat_step, 7),
            round((column + 0.5) * self.lng_step, 7),
        )

    def snap(self, latitude: float, longitude: float) -> tuple[float, float]:
        return self.centre(
            math.floor(latitude / self.lat_step), math.floor(longitude / self.lng_step)
        )


def site_cells(
    sites: QuerySet[Site], *, south: float, west: float, north: float, east: float, grid: Grid
) -> list[dict[str, float | int]]:
    """Sites in the box counted per grid cell, placed at the cell's centre: the close-up map
    for staff without personal-data access, which shows where cameras are, never which home."""
    cells = (
        sites.filter(latitude__range=(south, north), longitude__range=(west, east))
        .annotate(
            row=Floor(F("latitude") / Value(grid.lat_step), output_field=IntegerField()),
            column=Floor(F("longitude") / Value(grid.lng_step), output_field=IntegerField()),
        )
        .values("row", "column")
        .annotate(
            count=Count("pk", distinct=True),
            integrated=Count("pk", distinct=True, filter=Q(participation="integrated")),
        )
        .order_by("row", "column")
    )
    result: list[dict[str, float | int]] = []
    for cell in cells:
        latitude, longitude = grid.centre(cell["row"], cell["column"])
        result.append(
            {
                "count": cell["count"],
                "integrated": cell["integrated"],
                "latitude": latitude,
                "longitude": longitude,
            }
        )
    return result


def site_clusters(
    sites: QuerySet[Site],
    *,
    south: float,
    west: float,
    north: float,
    east: float,
    cell_deg: float,
    grid: Grid,
) -> list[dict[str, float | int]]:
    """Sites in the box grouped into square cells: count, integrated count, and their mean
    position snapped to the grid (a cluster of one site would otherwise be its exact home)."""
    clusters = list(
        cluster_counts(sites, south=south, west=west, north=north, east=east, cell_deg=cell_deg)
    )
    for cluster in clusters:
        cluster["latitude"], cluster["longitude"] = grid.snap(
            cluster["latitude"], cluster["longitude"]
        )
    return clusters


def cluster_counts(
    sites: QuerySet[Site], *, south: float, west: float, north: float, east: float, cell_deg: float
) -> QuerySet[Site, dict[str, float | int]]:
    """The sites in the box counted per square cell of cell_deg degrees, with their mean
    position (exact: site_clusters snaps it to the grid), grouped by PostgreSQL."""
    cell = Value(cell_deg)
    return (
        sites.filter(latitude__range=(south, north), longitude__range=(west, east))
        .annotate(
            row=Floor(F("latitude") / cell, output_field=IntegerField()),
            column=Floor(F("longitude") / cell, output_field=IntegerField()),
        )
        .values("row", "column")
        .annotate(
            # The filters join nothing that repeats a site: plain counts, no DISTINCT sort.
            count=Count("pk"),
            integrated=Count("pk", filter=Q(participation="integrated")),
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
