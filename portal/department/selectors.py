"""Reads for the department console: the registry map, its clusters, the dashboard."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import monotonic
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    Avg,
    BooleanField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Floor, TruncMonth
from django.utils import timezone

from portal.department.models import (
    CanvassEntry,
    FootageClip,
    Incident,
    Notification,
    NotificationRecipient,
)
from portal.registry.models import (
    AuditEntry,
    Camera,
    Site,
    SiteQuerySet,
    area_notices_condition,
    email_deliverable_condition,
)
from portal.registry.selectors import (
    METRES_PER_DEGREE,
    LocatedIn,
    NearNumbers,
    near_slots,
    sites_near,
    sites_near_query,
)
from tenants.compiled import AnyOf, CompiledQuery
from tenants.db import tenant_connection
from tenants.models import EARTH_RADIUS_M, Program


class CanvassSite(NamedTuple):
    """One searchable site of a canvass, with only what the page and the export show of it
    (plain values in a named tuple: a canvass lists hundreds of sites, and a model instance
    each costs more than the query). `pk` and `participant_id` name it in the audit trail."""

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


def canvass_search(incident: Incident, *, radius_m: float | None = None) -> SiteQuerySet:
    """The distance search behind an incident's canvass (sites_near at its search radius, or
    at a smaller `radius_m`), each site marked whether its owner's email is undeliverable."""
    numbers = canvass_numbers(incident, radius_m=radius_m)
    return with_email_state(sites_near_query(**dataclasses.asdict(numbers)))


def with_email_state(sites: SiteQuerySet) -> SiteQuerySet:
    """Each site marked `email_undeliverable` when its owner's address is (the one rule)."""
    return sites.annotate(
        email_undeliverable=ExpressionWrapper(
            ~email_deliverable_condition("participant__"), output_field=BooleanField()
        )
    )


def canvass_counted(sites: SiteQuerySet) -> QuerySet[Site, tuple[object, ...]]:
    """The canvass's columns, each row with the number of sites in the whole canvass."""
    return sites.annotate(total=Window(Count("pk"))).values_list(*CANVASS_COLUMNS, "total")


def canvass_numbers(incident: Incident, *, radius_m: float | None = None) -> NearNumbers:
    """The numbers of canvass_search()'s distance search (portal.registry.selectors)."""
    return NearNumbers.of(
        latitude=incident.latitude,
        longitude=incident.longitude,
        radius_m=incident.search_radius_m if radius_m is None else radius_m,
        seen_at=None if incident.skips_retention else incident.starts_at,
    )


@functools.lru_cache(maxsize=64)
def canvass_rows_query(
    *, timed: bool, counted: bool, start: int, stop: int | None
) -> CompiledQuery:
    """canvass_search()'s rows from `start` to `stop` (CANVASS_COLUMNS, with the canvass's
    total when `counted`: canvass_counted), kept compiled (tenants.compiled): the same
    queryset, without its 3 ms of building and compiling at each page. `timed` when the
    search has a time seen (retention_days is then a slot). One per shape and slice."""

    def build(**numbers: Any) -> QuerySet[Site, tuple[object, ...]]:
        sites = with_email_state(sites_near_query(**numbers))
        rows = canvass_counted(sites) if counted else sites.values_list(*CANVASS_COLUMNS)
        return rows[start:stop]

    return CompiledQuery(build, **near_slots(timed=timed))


def canvass_rows(
    numbers: NearNumbers, *, counted: bool, start: int, stop: int | None
) -> list[tuple[Any, ...]]:
    """canvass_rows_query()'s rows for these numbers."""
    query = canvass_rows_query(
        timed=numbers.retention_days is not None, counted=counted, start=start, stop=stop
    )
    return query.rows(**numbers.slots())


# From how many sites in the kept cells wholly inside its circle a canvass is counted from those
# cells and listed from a smaller circle (sites_near_count, canvass_nearest): below it, one
# query reading every site of the radius costs less than the cells' and the edge's queries.
CANVASS_COUNTED_FROM = 3000

# The nearest part's first circle is sized to hold this many times the sites asked for, so
# that one query usually holds them all.
CANVASS_NEAREST_MARGIN = 1.5


def canvass(incident: Incident, *, offset: int = 0, limit: int | None = None) -> Canvass:
    """The incident's canvass: the searchable sites within its search radius (sites_near),
    nearest first, from `offset` on (`limit` of them, or all).

    Where the radius holds few sites, one query counts the whole canvass as it reads the part
    asked for. Where the kept cells wholly inside the circle already hold CANVASS_COUNTED_FROM
    sites, the total is those cells' count plus the sites of the cells along the edge
    (sites_near_count), and the part is listed from a smaller circle that holds it
    (canvass_nearest): at 5 km in a 300,000-site city the page no longer reads and sorts the
    16,000 sites of the radius (docs/benchmarks.md, issue 14 third pass: the canvass count)."""
    numbers = canvass_numbers(incident)
    if limit is None:
        rows = canvass_rows(numbers, counted=False, start=offset, stop=None)
        total = offset + len(rows)
    else:
        counted = (
            sites_near_count(
                latitude=incident.latitude,
                longitude=incident.longitude,
                radius_m=incident.search_radius_m,
                counted_from=CANVASS_COUNTED_FROM,
            )
            if sites_near_bound(numbers) >= CANVASS_COUNTED_FROM
            else None
        )
        if counted is None:
            rows = canvass_rows(numbers, counted=True, start=offset, stop=offset + limit)
            total = int(rows[0][-1]) if rows else canvass_search(incident).count()
        else:
            total = counted
            rows = canvass_nearest(incident, offset=offset, limit=limit, total=total)
    return Canvass(
        sites=[
            CanvassSite(offset + number, *row[: len(CANVASS_COLUMNS)])
            for number, row in enumerate(rows, start=1)
        ],
        total=total,
    )


def canvass_nearest(
    incident: Incident, *, offset: int, limit: int, total: int
) -> list[tuple[object, ...]]:
    """The canvass's sites from `offset` on (`limit` of them), nearest first, read from the
    smallest circle that holds them: a circle sized from the radius's density to hold half again
    the sites asked for, widened until it holds them (or is the search radius). A circle that
    holds at least offset + limit sites holds exactly the nearest ones: every site outside it is
    farther than every site in it, and the order (distance, key) is the same."""
    wanted = offset + limit
    radius_m = incident.search_radius_m
    if total <= 0:
        return []
    share = min(CANVASS_NEAREST_MARGIN * wanted / total, 1.0)
    while True:
        # Sites per area: the radius grows with the square root of the share of sites wanted.
        inner_m = min(radius_m * math.sqrt(share), radius_m)
        numbers = canvass_numbers(incident, radius_m=inner_m)
        if inner_m >= radius_m:
            return canvass_rows(numbers, counted=False, start=offset, stop=wanted)
        rows = canvass_rows(numbers, counted=True, start=0, stop=wanted)
        held = int(rows[0][-1]) if rows else 0
        if held >= wanted:
            return [row[:-1] for row in rows[offset:]]
        # Too few: widen to the share the sites found say (at least doubling the area).
        share = min(max(2 * share, share * CANVASS_NEAREST_MARGIN * wanted / max(held, 1)), 1.0)


# An upper bound of the sites near a point, from one coarse level of the kept cells (2.4 km a
# side), read whole for a city and kept in each process for a minute: the cells that the
# circle's box touches hold every site of the circle. Where they hold fewer than
# CANVASS_COUNTED_FROM sites, so do the cells wholly inside it, and canvass() does not ask those
# (a statement and its Python, 1 to 2 ms of a 1 km canvass page). A bound a minute old (or one
# wrong for any reason) only picks the costlier of two ways to the same canvass, never another.
BOUND_ZOOM = 12
BOUND_KEPT_SECONDS = 60
BOUND_CELLS = """
SELECT cell_row, cell_column, sum(sites)::bigint FROM registry_sitecell
WHERE zoom = %s GROUP BY cell_row, cell_column HAVING sum(sites) > 0
"""
# (database, schema) -> (when to read again, monotonic; {(row, column): sites}).
_bound_cells: dict[tuple[str, str], tuple[float, dict[tuple[int, int], int]]] = {}


def sites_near_bound(numbers: NearNumbers) -> int:
    """At least as many sites as the distance search of these numbers finds (as of at most
    BOUND_KEPT_SECONDS ago): the sites of the BOUND_ZOOM cells that its box touches (the
    location index's question: every site it finds is in it), each edge pushed out by a
    thousandth of a cell."""
    key = (str(connection.settings_dict["NAME"]), tenant_connection.schema_name)
    kept = _bound_cells.get(key)
    if kept is None or kept[0] <= monotonic():
        with connection.cursor() as cursor:
            cursor.execute(BOUND_CELLS, [BOUND_ZOOM])
            cells = {(row, column): int(sites) for row, column, sites in cursor.fetchall()}
        kept = _bound_cells[key] = (monotonic() + BOUND_KEPT_SECONDS, cells)
    cells = kept[1]
    size = cluster_cell(BOUND_ZOOM)
    margin = size / 1000
    rows = range(
        math.floor((numbers.south - margin) / size),
        math.floor((numbers.north + margin) / size) + 1,
    )
    columns = range(
        math.floor((numbers.west - margin) / size),
        math.floor((numbers.east + margin) / size) + 1,
    )
    if len(rows) * len(columns) > len(cells):
        return sum(
            sites for (row, column), sites in cells.items() if row in rows and column in columns
        )
    return sum(cells.get((row, column), 0) for row in rows for column in columns)


def sites_near_bound_forget() -> None:
    """Drop every city's kept bound (tests: a city's sites changed within the minute)."""
    _bound_cells.clear()


# The kept sites of some cells: per band (a level, one row, a range of columns), the sum of the
# band's cells read by key (registry_sitecell's primary key: zoom, row, then column).
CELLS_INSIDE = """
SELECT coalesce(sum(band_sites), 0)::bigint
FROM unnest(%s::integer[], %s::integer[], %s::integer[], %s::integer[])
     AS band(zoom, cell_row, first_column, last_column)
CROSS JOIN LATERAL (
    SELECT sum(cell.sites) AS band_sites FROM registry_sitecell AS cell
    WHERE cell.zoom = band.zoom AND cell.cell_row = band.cell_row
          AND cell.cell_column BETWEEN band.first_column AND band.last_column
) AS counted
"""


def finest_cells_inside(
    *, latitude: float, longitude: float, radius_m: float
) -> dict[int, tuple[int, int]]:
    """The finest kept cells wholly inside the circle, row by row: {row: (first column, last
    column)}. A cell lies inside iff its farthest point does, and that is one of its corners
    (along a parallel the distance grows with the difference in longitude, along a meridian it
    falls then grows): a row's cells inside are those whose corners, on both of the row's
    edges, lie within the longitude the circle reaches there. Conservative by design: each
    cell's edges pushed out by a thousandth of a cell (whichever way PostgreSQL rounds the
    cell's division) and the radius taken a centimetre short (whichever way it rounds the
    distance); a cell left out is counted from its sites instead, never twice."""
    cell = cluster_cell(FINEST_ZOOM)
    margin = cell / 1000
    reach = (radius_m - 0.01) / EARTH_RADIUS_M
    if reach <= 0:
        return {}
    limit = math.sin(reach / 2) ** 2
    phi0 = math.radians(latitude)
    lat_delta = radius_m / METRES_PER_DEGREE
    inside: dict[int, tuple[int, int]] = {}
    for row in range(
        math.floor((latitude - lat_delta) / cell), math.floor((latitude + lat_delta) / cell) + 1
    ):
        edges = (row * cell - margin, (row + 1) * cell + margin)
        spans = []
        for edge in edges:
            phi = math.radians(edge)
            left = limit - math.sin((phi - phi0) / 2) ** 2
            scale = math.cos(phi) * math.cos(phi0)
            if left < 0 or scale <= 0:
                break
            spans.append(math.degrees(2 * math.asin(min(math.sqrt(left / scale), 1.0))))
        else:
            span = min(spans)
            first = math.ceil((longitude - span + margin) / cell)
            last = math.floor((longitude + span - margin) / cell) - 1
            # Checked corner by corner, and narrowed where rounding put a corner outside.
            while first <= last and not _cell_inside(row, first, latitude, longitude, limit):
                first += 1
            while first <= last and not _cell_inside(row, last, latitude, longitude, limit):
                last -= 1
            if first <= last:
                inside[row] = (first, last)
    return inside


def _cell_inside(row: int, column: int, latitude: float, longitude: float, limit: float) -> bool:
    cell = cluster_cell(FINEST_ZOOM)
    margin = cell / 1000
    phi0 = math.radians(latitude)
    for corner_lat in (row * cell - margin, (row + 1) * cell + margin):
        for corner_lng in (column * cell - margin, (column + 1) * cell + margin):
            phi = math.radians(corner_lat)
            haversine = (
                math.sin((phi - phi0) / 2) ** 2
                + math.cos(phi0)
                * math.cos(phi)
                * math.sin(math.radians(corner_lng - longitude) / 2) ** 2
            )
            if haversine > limit:
                return False
    return True


def cells_inside_bands(inside: dict[int, tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """The kept cells covering the finest cells inside, as a quadtree: at each level from the
    coarsest, the cells all of whose finest cells are inside and that no coarser such cell
    holds, as bands (zoom, row, first column, last column). Every finest cell inside lies in
    exactly one band's cell: the bands' kept sites are the sites of the finest cells inside."""
    bands: list[tuple[int, int, int, int]] = []
    covered: dict[int, tuple[int, int]] = {}  # the previous level's cells, by row
    for zoom in COUNTED_ZOOMS:
        shift = 2 ** (FINEST_ZOOM - zoom)
        level: dict[int, tuple[int, int]] = {}
        for row in {finest_row // shift for finest_row in inside}:
            rows = range(row * shift, (row + 1) * shift)
            if not all(finest_row in inside for finest_row in rows):
                continue
            first = -(-max(inside[r][0] for r in rows) // shift)
            last = (min(inside[r][1] for r in rows) + 1) // shift - 1
            if first > last:
                continue
            level[row] = (first, last)
            parent = covered.get(row // 2)
            if parent is None:
                bands.append((zoom, row, first, last))
                continue
            inner_first, inner_last = 2 * parent[0], 2 * parent[1] + 1
            if first < inner_first:
                bands.append((zoom, row, first, inner_first - 1))
            if inner_last < last:
                bands.append((zoom, row, inner_last + 1, last))
        covered = level
    return bands


def sites_near_count(
    *, latitude: float, longitude: float, radius_m: float, counted_from: int = 0
) -> int | None:
    """How many sites sites_near() finds, counted from the kept cells (registry_sitecell, kept
    by triggers in the transaction of every change, by the searchable rule): the cells wholly
    inside the circle, coarse ones first and finer ones along the edge (cells_inside_bands),
    plus the sites of sites_near() in the finest cells not wholly inside, counted through the
    location index one strip of cells a row. None when the cells inside hold fewer than
    `counted_from` sites (the caller counts the sites themselves: cheaper there).
    tests/department/test_canvass_count.py compares it with sites_near().count()."""
    inside = finest_cells_inside(latitude=latitude, longitude=longitude, radius_m=radius_m)
    bands = cells_inside_bands(inside)
    counted = 0
    if bands:
        with connection.cursor() as cursor:
            cursor.execute(CELLS_INSIDE, [list(column) for column in zip(*bands, strict=True)])
            counted = int(cursor.fetchone()[0])
    if counted < counted_from:
        return None
    edge = sites_near_edge(latitude=latitude, longitude=longitude, radius_m=radius_m, inside=inside)
    return counted + edge.count()


# Whether a site lies in one of some boxes (the location index's question, one index scan a
# box), and whether its finest cell is not one of the cells inside (a row's first and last
# column inside from arrays indexed by row; a row with none has first 1, last 0; a row past the
# arrays gives NULL, and so no cell inside). Written as SQL: a few dozen boxes and rows built as
# Django expressions took 23 ms of Python on each canvass page.
SITE_IN_BOX = (
    'point("registry_site"."longitude", "registry_site"."latitude")'
    " <@ box(point(%s, %s), point(%s, %s))"
)
SITE_OUTSIDE_CELLS = """NOT coalesce(
    floor("registry_site"."longitude" / %s)
    BETWEEN (%s::float8[])[floor("registry_site"."latitude" / %s)::integer - %s]
    AND (%s::float8[])[floor("registry_site"."latitude" / %s)::integer - %s],
    false)"""


def sites_near_edge(
    *, latitude: float, longitude: float, radius_m: float, inside: dict[int, tuple[int, int]]
) -> SiteQuerySet:
    """sites_near()'s sites in no finest cell of `inside`: those in strips of each row west and
    east of its cells inside (the whole row where none is), read through the location index,
    each strip reaching a thousandth of a cell into its neighbours; the site's own cell, as the
    kept cells compute it (the same division), then decides."""
    cell = cluster_cell(FINEST_ZOOM)
    margin = cell / 1000
    lat_delta = radius_m / METRES_PER_DEGREE
    cos_lat = max(math.cos(math.radians(latitude)), 1e-6)
    lng_delta = min(radius_m / (METRES_PER_DEGREE * cos_lat), 180.0)
    west, east = longitude - lng_delta, longitude + lng_delta
    first_row = math.floor((latitude - lat_delta) / cell) - 1
    last_row = math.floor((latitude + lat_delta) / cell) + 1
    boxes: list[tuple[float, float, float, float]] = []  # (west, south, east, north)
    whole_from: int | None = None  # a run of rows with no cell inside, as one box
    for row in range(first_row, last_row + 2):
        if row not in inside and row <= last_row:
            whole_from = row if whole_from is None else whole_from
            continue
        if whole_from is not None:
            boxes.append((west, whole_from * cell - margin, east, row * cell + margin))
            whole_from = None
        if row in inside:
            first, last = inside[row]
            south, north = row * cell - margin, (row + 1) * cell + margin
            boxes.append((west, south, first * cell + margin, north))
            boxes.append(((last + 1) * cell - margin, south, east, north))
    strips = RawSQL(
        "(" + " OR ".join([SITE_IN_BOX] * len(boxes)) + ")",
        [corner for box in boxes for corner in box],
        output_field=BooleanField(),
    )
    sites = sites_near(latitude=latitude, longitude=longitude, radius_m=radius_m).filter(strips)
    if not inside:
        return sites
    rows = range(min(inside), max(inside) + 1)
    firsts = [float(inside[row][0]) if row in inside else 1.0 for row in rows]
    lasts = [float(inside[row][1]) if row in inside else 0.0 for row in rows]
    before = rows.start - 1  # a row's place in the arrays, from 1
    outside = RawSQL(
        SITE_OUTSIDE_CELLS,
        [cell, firsts, cell, before, lasts, cell, before],
        output_field=BooleanField(),
    )
    return sites.filter(outside)


class CameraView(NamedTuple):
    """What a canvass shows of an active camera: where it looks, what, for how long."""

    direction: int
    sees: list[str]
    retention_days: int


def canvass_cameras(site_ids: Sequence[int]) -> dict[int, list[CameraView]]:
    """The active cameras of these sites, by site, in one query (kept compiled)."""
    cameras: dict[int, list[CameraView]] = defaultdict(list)
    for site_id, direction, sees, retention_days in CANVASS_CAMERAS.rows(site_ids=list(site_ids)):
        cameras[site_id].append(CameraView(direction, sees, retention_days))
    return cameras


CANVASS_CAMERAS = CompiledQuery(
    lambda site_ids: (
        Camera.objects.active()
        .filter(AnyOf(F("site_id"), site_ids))
        .order_by("site_id", "pk")
        .values_list("site_id", "direction", "sees", "retention_days")
    ),
    site_ids=list,
)


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
        for site_id, state, notes in CANVASS_ENTRIES.rows(incident_id=incident.pk)
    }


CANVASS_ENTRIES = CompiledQuery(
    lambda incident_id: CanvassEntry.objects.filter(incident_id=incident_id).values_list(
        "site_id", "state", "notes"
    ),
    incident_id=int,
)


def canvass_site(incident: Incident, site_id: int, *, number: int) -> CanvassSite | None:
    """One site of the canvass (its row after a change), by key: the incident's distance
    search narrowed to that site, not the whole canvass again. None when the site is no longer
    in the canvass (paused, lapsed, gone). `number` is the row's place as the page listed it."""
    numbers = canvass_numbers(incident)
    query = canvass_site_query(timed=numbers.retention_days is not None)
    rows = query.rows(site_id=site_id, **numbers.slots())
    return CanvassSite(number, *rows[0]) if rows else None


@functools.lru_cache(maxsize=2)
def canvass_site_query(*, timed: bool) -> CompiledQuery:
    """canvass_search()'s row of one site (CANVASS_COLUMNS), kept compiled: asked after every
    change to a row (its state, a reveal, a footage request) while staff work down the list."""

    def build(site_id: int, **numbers: Any) -> QuerySet[Site, tuple[object, ...]]:
        sites = with_email_state(sites_near_query(**numbers)).filter(pk=site_id)
        return sites.values_list(*CANVASS_COLUMNS)[:1]

    return CompiledQuery(build, site_id=int, **near_slots(timed=timed))


@dataclass(frozen=True)
class NoticeSummary:
    """A notice of an incident as its page lists it: how many owners it was sent to, how many
    copies stopped midway (delivery unknown), how many answered each way, and whether its job
    still waits in the outbox for the broker (`queued`, set by the caller)."""

    pk: int
    kind: str
    created_at: datetime
    sent: int
    unknown: int
    with_footage: int
    nothing: int
    queued: bool = False


def incident_notices(incident: Incident) -> list[NoticeSummary]:
    """The incident's notices (area notices and footage requests), newest first, with their
    counts (in one query, kept compiled: it runs on every canvass page)."""
    return [NoticeSummary(*row) for row in INCIDENT_NOTICES.rows(incident_id=incident.pk)]


INCIDENT_NOTICES = CompiledQuery(
    lambda incident_id: (
        Notification.objects.filter(incident_id=incident_id)
        .annotate(
            sent=Count("recipients", filter=Q(recipients__sent_at__isnull=False)),
            unknown=Count(
                "recipients",
                filter=Q(recipients__claimed_at__isnull=False, recipients__sent_at=None),
            ),
            with_footage=Count(
                "recipients",
                filter=Q(recipients__answer=NotificationRecipient.Answer.HAS_FOOTAGE),
            ),
            nothing=Count(
                "recipients", filter=Q(recipients__answer=NotificationRecipient.Answer.NOTHING)
            ),
        )
        .order_by("-created_at")
        .values_list("pk", "kind", "created_at", "sent", "unknown", "with_footage", "nothing")
    ),
    incident_id=int,
)


@dataclass(frozen=True)
class SiteAnswer:
    """An owner's answer to what the department asked them about this case, for one site:
    the kind of notice (area notice or footage request) and the answer ("" before one)."""

    kind: str
    answer: str


@dataclass(frozen=True)
class ClipView:
    """A clip received for the case, as the canvass shows it next to its site."""

    pk: int
    name: str
    content_type: str
    size: int
    uploaded_at: object
    # The sites it came from: the requested site, or the owner's sites (an area notice is
    # answered per owner, not per site).
    site_ids: tuple[int, ...]

    @property
    def preview(self) -> str:
        """ "image" or "video" when a browser can show it on the page, "" otherwise."""
        return clip_preview_kind(self.content_type)


# Types a browser shows inline, from the sniffed types (portal.department.clip_types); MKV and
# AVI play in no browser and are downloaded only.
PREVIEW_TYPES = {
    "image/jpeg": "image",
    "image/png": "image",
    "video/mp4": "video",
    "video/webm": "video",
    "video/quicktime": "video",
}


def clip_preview_kind(content_type: str) -> str:
    return PREVIEW_TYPES.get(content_type, "")


@dataclass(frozen=True)
class CanvassReplies:
    """What the owners of some canvass sites answered, and the clips they sent, by site."""

    answers: dict[int, list[SiteAnswer]]
    clips: dict[int, list[ClipView]]


def canvass_replies(
    incident: Incident,
    sites: Sequence[CanvassSite],
    *,
    clips: list[ClipView] | None = None,
    kinds: set[str] | None = None,
) -> CanvassReplies:
    """Each listed site's answers (area notices of its owner, footage requests for it) and
    clips, in three queries at most whatever the number of sites. `clips` when the caller
    already read them (incident_clips), `kinds` when it knows which kinds of notice the
    incident has (no query for a kind it has none of)."""
    by_owner: dict[int, list[int]] = defaultdict(list)
    for site in sites:
        by_owner[site.participant_id].append(site.pk)
    listed = {site.pk for site in sites}
    answers: dict[int, list[SiteAnswer]] = defaultdict(list)
    if kinds is None:
        kinds = {Notification.Kind.AREA, Notification.Kind.FOOTAGE_REQUEST}
    if Notification.Kind.AREA in kinds:
        copies = (
            NotificationRecipient.objects.filter(
                notification__incident=incident,
                notification__kind=Notification.Kind.AREA,
                participant_id__in=list(by_owner),
            )
            .order_by("notification__created_at", "pk")
            .values_list("participant_id", "answer")
        )
        for participant_id, answer in copies:
            for pk in by_owner[participant_id]:
                answers[pk].append(SiteAnswer(Notification.Kind.AREA, answer))
    if Notification.Kind.FOOTAGE_REQUEST in kinds:
        # A footage request is about its site, answered or not, its owner's copy made or not
        # yet (the delivery job makes it).
        requests = (
            Notification.objects.filter(
                incident=incident, kind=Notification.Kind.FOOTAGE_REQUEST, site_id__in=listed
            )
            .order_by("created_at", "pk")
            .values_list("site_id", "recipients__answer")
        )
        for site_id, answer in requests:
            answers[site_id].append(SiteAnswer(Notification.Kind.FOOTAGE_REQUEST, answer or ""))
    by_site: dict[int, list[ClipView]] = defaultdict(list)
    for clip in incident_clips(incident) if clips is None else clips:
        for pk in clip.site_ids:
            if pk in listed:
                by_site[pk].append(clip)
    return CanvassReplies(answers=dict(answers), clips=dict(by_site))


def incident_clips(incident: Incident) -> list[ClipView]:
    """Every clip received for the case, oldest first, each with the sites it came from: the
    requested site for a footage request, the owner's searchable sites for an area notice."""
    rows = list(
        FootageClip.objects.filter(incident=incident)
        .order_by("uploaded_at", "pk")
        .values_list(
            "pk",
            "original_name",
            "content_type",
            "size",
            "uploaded_at",
            "recipient__notification__site_id",
            "recipient__participant_id",
        )
    )
    owners = {participant_id for *_rest, site_id, participant_id in rows if not site_id}
    owner_sites: dict[int, list[int]] = defaultdict(list)
    if owners - {None}:
        for participant_id, site_id in (
            Site.objects.searchable()
            .filter(participant_id__in=owners - {None})
            .order_by("pk")
            .values_list("participant_id", "pk")
        ):
            owner_sites[participant_id].append(site_id)
    return [
        ClipView(
            pk,
            name,
            content_type,
            size,
            uploaded_at,
            (site_id,) if site_id else tuple(owner_sites.get(participant_id, ())),
        )
        for pk, name, content_type, size, uploaded_at, site_id, participant_id in rows
    ]


def _owners_in_area(incident: Incident, radius_m: int) -> set[int]:
    """Owners with a searchable site within radius_m of the incident who have not turned area
    notices off (area_notices_condition) and whose email is not known to be undeliverable (the
    canvass flags those for a call instead)."""
    sites = sites_near(
        latitude=incident.latitude, longitude=incident.longitude, radius_m=radius_m
    ).filter(email_deliverable_condition("participant__"), area_notices_condition("participant__"))
    return set(sites.values_list("participant_id", flat=True))


def _contacted_about(incident: Incident, *, notification_id: int | None = None) -> set[int]:
    """Owners the department already contacted about the case: a copy of one of its notices
    or footage requests (sent, queued or answered), other than `notification_id`'s own."""
    contacted = NotificationRecipient.objects.filter(notification__incident=incident)
    if notification_id is not None:
        contacted = contacted.exclude(notification_id=notification_id)
    return set(contacted.values_list("participant_id", flat=True))


def area_notice_owners(
    incident: Incident, *, radius_m: int, notification_id: int | None = None
) -> set[int]:
    """The owners an area notice for the incident addresses now: those in the area
    (_owners_in_area) the department did not contact about the case before, so that an owner
    who answered, or was already asked, is not asked again. `notification_id` is the notice
    itself, whose own copies still count as its own."""
    return _owners_in_area(incident, radius_m) - _contacted_about(
        incident, notification_id=notification_id
    )


def area_notice_preview(incident: Incident) -> tuple[int, int]:
    """For the confirmation before an area notice: how many owners it would contact, and how
    many owners in the area it leaves out because they were contacted about the case before."""
    in_area = _owners_in_area(incident, incident.search_radius_m)
    contacting = in_area - _contacted_about(incident)
    return len(contacting), len(in_area - contacting)


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
        _cluster_placed(cluster, grid)
    return clusters


def _cluster_placed(cluster: dict[str, float | int], grid: Grid) -> None:
    """A cluster as the map gets it: its cell (row and column as integers, whichever query
    counted it), its mean position snapped to the grid."""
    cluster["row"], cluster["column"] = int(cluster["row"]), int(cluster["column"])
    cluster["latitude"], cluster["longitude"] = grid.snap(cluster["latitude"], cluster["longitude"])


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


# The zoom levels whose cells PostgreSQL keeps counted (registry_sitecell, registry migration
# 0016): every level the map clusters at (views.SITE_ZOOM and beyond show sites).
COUNTED_ZOOMS = range(16)
FINEST_ZOOM = COUNTED_ZOOMS[-1]

# The kept cells of one level in a range of rows and columns, grouped into the cells of the
# asked level (%(zoom)s): {band} is one such range per level, joined by UNION ALL so that each
# is answered from the index that suits it (rows or columns first).
COUNTED_BAND = """
SELECT floor(cell_row / power(2::float8, zoom - %s))::integer AS cell_row,
       floor(cell_column / power(2::float8, zoom - %s))::integer AS cell_column,
       sites, participation, latitude_sum, longitude_sum
FROM registry_sitecell
WHERE zoom = %s AND cell_row BETWEEN %s AND %s AND cell_column BETWEEN %s AND %s
      AND kind = ANY(%s) AND participation = ANY(%s)
"""
COUNTED_CELLS = """
SELECT cell_row, cell_column, sum(sites)::integer,
       coalesce(sum(sites) FILTER (WHERE participation = 'integrated'), 0)::integer,
       sum(latitude_sum), sum(longitude_sum)
FROM ({bands}) AS band
GROUP BY cell_row, cell_column
HAVING sum(sites) > 0
"""


def cluster_cell(zoom: int) -> float:
    """The side of a cluster's square cell at a zoom level, in degrees: a quarter of a 256-pixel
    map tile's width."""
    return 360 / 2**zoom / 4


class AsNumeric(Func):
    """A double as PostgreSQL's numeric, as the kept cells sum it (exact sums)."""

    template = "(%(expressions)s)::numeric"
    output_field = DecimalField()


@dataclass(frozen=True)
class CellRange:
    """The cells of one level wholly inside a box: rows first_row..last_row, columns
    first_column..last_column (empty when a first is past its last)."""

    zoom: int
    first_row: int
    last_row: int
    first_column: int
    last_column: int

    @classmethod
    def inside(cls, zoom: int, south: float, west: float, north: float, east: float) -> CellRange:
        # A margin far wider than a double's rounding: no site counted in these cells can lie
        # outside the box, whichever way PostgreSQL rounds its division.
        cell = cluster_cell(zoom)
        margin = cell / 1000
        return cls(
            zoom,
            math.ceil((south + margin) / cell),
            math.floor((north - margin) / cell) - 1,
            math.ceil((west + margin) / cell),
            math.floor((east - margin) / cell) - 1,
        )

    @property
    def empty(self) -> bool:
        return self.first_row > self.last_row or self.first_column > self.last_column

    def children(self) -> CellRange:
        """The same cells at the next level (each cell is four there)."""
        return CellRange(
            self.zoom + 1,
            2 * self.first_row,
            2 * self.last_row + 1,
            2 * self.first_column,
            2 * self.last_column + 1,
        )

    def without(self, inner: CellRange) -> list[tuple[int, int, int, int]]:
        """This range less an inner one: up to four bands (rows and columns, inclusive)."""
        if inner.empty:
            return (
                []
                if self.empty
                else [(self.first_row, self.last_row, self.first_column, self.last_column)]
            )
        bands = [
            (self.first_row, inner.first_row - 1, self.first_column, self.last_column),
            (inner.last_row + 1, self.last_row, self.first_column, self.last_column),
            (inner.first_row, inner.last_row, self.first_column, inner.first_column - 1),
            (inner.first_row, inner.last_row, inner.last_column + 1, self.last_column),
        ]
        return [band for band in bands if band[0] <= band[1] and band[2] <= band[3]]


def counted_cells_query(
    filters: MapFilters, *, south: float, west: float, north: float, east: float, zoom: int
) -> tuple[str, list[Any], CellRange]:
    """The query of the kept cells map_clusters reads for the box ("" when no cell lies wholly
    inside it), and the finest level's cells it covers."""
    bands: list[str] = []
    params: list[Any] = []
    kinds = list(filters.kinds or Site.Kind.values)
    participation = list(filters.participation or Site.Participation.values)
    covered = CellRange(zoom, 0, -1, 0, -1)
    inside = covered
    for level in range(zoom, COUNTED_ZOOMS[-1] + 1):
        inside = CellRange.inside(level, south, west, north, east)
        for first_row, last_row, first_column, last_column in inside.without(covered):
            bands.append(COUNTED_BAND)
            params += [zoom, zoom, level, first_row, last_row, first_column, last_column]
            params += [kinds, participation]
        covered = inside.children()
    sql = COUNTED_CELLS.format(bands=" UNION ALL ".join(bands)) if bands else ""
    return sql, params, inside


def map_clusters(
    filters: MapFilters,
    *,
    south: float,
    west: float,
    north: float,
    east: float,
    zoom: int,
    grid: Grid,
) -> list[dict[str, float | int]]:
    """What site_clusters() gives for the map's sites (sites_on_map) in the box at the zoom
    level, without grouping every site of the city on each request.

    The box is covered by the cells PostgreSQL keeps counted (registry_sitecell, kept by
    triggers in the transaction of every change) as a quadtree: the asked level's cells wholly
    inside the box, then along the edges the next level's cells wholly inside it that those
    do not cover, and so on to the finest kept level (about 300 m); the sites in the last thin
    strips along the edges are grouped from the sites themselves, through the location index.
    A finer cell always lies in one cell of each coarser level (90 / 2**zoom degrees, divided
    by a power of two: the same double as the grouping's), so every site is counted once, in
    the cell the grouping puts it in; positions are averaged from exact sums.
    tests/registry/test_site_cells.py compares the result with the grouping's.
    The counts hold the searchable sites by kind and participation: the other statuses, and
    what the cameras see, are grouped from the sites as before."""
    sites = sites_on_map(filters)
    box = {"south": south, "west": west, "north": north, "east": east}
    if filters.status != "active" or filters.sees or zoom not in COUNTED_ZOOMS:
        return site_clusters(sites, cell_deg=cluster_cell(zoom), grid=grid, **box)
    sql, params, finest = counted_cells_query(filters, zoom=zoom, **box)
    totals: dict[tuple[int, int], list[Any]] = {}
    if sql:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for row, column, count, integrated, latitude_sum, longitude_sum in cursor:
                totals[(row, column)] = [count, integrated, latitude_sum, longitude_sum]
    # The sites in no finest cell wholly inside the box: in strips along its edges (reaching a
    # margin into those cells; the finest cell's own expression then decides).
    cell = cluster_cell(finest.zoom)
    margin = cell / 1000
    inner_south = finest.first_row * cell + margin
    inner_north = (finest.last_row + 1) * cell - margin
    inner_west = finest.first_column * cell + margin
    inner_east = (finest.last_column + 1) * cell - margin
    strips = (
        Q(LocatedIn(south, west, inner_south, east))
        | Q(LocatedIn(inner_north, west, north, east))
        | Q(LocatedIn(south, west, north, inner_west))
        | Q(LocatedIn(south, inner_east, north, east))
    )
    fine = Value(cell)
    asked = Value(cluster_cell(zoom))
    edges = (
        sites.filter(strips, latitude__range=(south, north), longitude__range=(west, east))
        .annotate(
            fine_row=Floor(F("latitude") / fine, output_field=IntegerField()),
            fine_column=Floor(F("longitude") / fine, output_field=IntegerField()),
        )
        .exclude(
            fine_row__range=(finest.first_row, finest.last_row),
            fine_column__range=(finest.first_column, finest.last_column),
        )
        .annotate(
            row=Floor(F("latitude") / asked, output_field=IntegerField()),
            column=Floor(F("longitude") / asked, output_field=IntegerField()),
        )
        .values("row", "column")
        .annotate(
            count=Count("pk"),
            integrated=Count("pk", filter=Q(participation="integrated")),
            latitude_sum=Sum(AsNumeric("latitude")),
            longitude_sum=Sum(AsNumeric("longitude")),
        )
        .order_by()
    )
    for edge in edges:
        total = totals.setdefault((int(edge["row"]), int(edge["column"])), [0, 0, 0, 0])
        total[0] += edge["count"]
        total[1] += edge["integrated"]
        total[2] += edge["latitude_sum"]
        total[3] += edge["longitude_sum"]
    clusters: list[dict[str, float | int]] = []
    for (row, column), (count, integrated, latitude_sum, longitude_sum) in totals.items():
        cluster: dict[str, float | int] = {
            "row": row,
            "column": column,
            "count": count,
            "integrated": integrated,
            "latitude": float(latitude_sum / count),
            "longitude": float(longitude_sum / count),
        }
        _cluster_placed(cluster, grid)
        clusters.append(cluster)
    return clusters


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


@dataclass(frozen=True)
class AuditFilters:
    """What the audit page and its export are narrowed to (AuditFilterForm's values): a case
    number, a time range (`starts` inclusive, `ends` exclusive: whole days in the department's
    time zone), an action and part of a staff member's email."""

    case_number: str = ""
    starts: datetime | None = None
    ends: datetime | None = None
    action: str = ""
    actor: str = ""

    @classmethod
    def of_days(
        cls,
        *,
        case_number: str = "",
        date_from: date | None = None,
        date_to: date | None = None,
        action: str = "",
        actor: str = "",
    ) -> AuditFilters:
        """The filters for whole days as the department counts them (the active time zone)."""

        def midnight(day: date) -> datetime:
            return timezone.make_aware(datetime.combine(day, time.min))

        return cls(
            case_number=case_number.strip(),
            starts=midnight(date_from) if date_from else None,
            ends=midnight(date_to + timedelta(days=1)) if date_to else None,
            action=action,
            actor=actor.strip(),
        )

    def described(self) -> str:
        """The filters in words for the export's own audit entry (empty: the whole trail)."""
        parts = []
        if self.case_number:
            parts.append(f"case {self.case_number}")
        if self.starts:
            parts.append(f"from {self.starts.isoformat()}")
        if self.ends:
            parts.append(f"before {self.ends.isoformat()}")
        if self.action:
            parts.append(f"action {self.action}")
        if self.actor:
            parts.append(f"staff {self.actor}")
        return ", ".join(parts)


def audit_trail(filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The audit entries the filters keep, newest first: the one rule the page, its pages and
    its export all read (ids follow `at`: the chain trigger numbers and dates entries in one
    order, so `-id` is the trail's order and pages are cut by id)."""
    entries = AuditEntry.objects.all()
    if filters.case_number:
        entries = entries.filter(case_number=filters.case_number)
    # The time range is also turned into an id range (from the `at` index, one row each), so
    # that a range with another filter reads that filter's (x, id) index between two ids
    # instead of every newer entry (bench/audit_trail.py: a month and an action, 0.5 s → ms).
    if filters.starts:
        entries = entries.filter(at__gte=filters.starts)
        first = _first_entry_at(filters.starts)
        entries = entries.filter(pk__gte=first) if first else entries.none()
    if filters.ends:
        entries = entries.filter(at__lt=filters.ends)
        after = _first_entry_at(filters.ends)
        if after:
            entries = entries.filter(pk__lt=after)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.actor:
        entries = entries.filter(actor_email__icontains=filters.actor)
    return entries.order_by("-id")


def _first_entry_at(moment: datetime) -> int | None:
    """The id of the first entry written at or after `moment` (None: none yet)."""
    return (
        AuditEntry.objects.filter(at__gte=moment)
        .order_by("at", "id")
        .values_list("id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class AuditPage:
    """One page of the filtered trail, cut by id (keyset): no count over a million entries,
    and each page is one index read however deep it is."""

    entries: list[AuditEntry]
    newer_than: int | None  # the id a "newer" link starts after (None: this is the newest)
    older_than: int | None  # the id an "older" link starts before (None: nothing older)


def audit_page(
    entries: QuerySet[AuditEntry],
    *,
    size: int,
    before: int | None = None,
    after: int | None = None,
) -> AuditPage:
    """`size` entries of the filtered trail, newest first: those just older than id `before`,
    or just newer than id `after`, or the newest."""
    if after is not None:
        rows = list(entries.filter(pk__gt=after).order_by("id")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        more_older = bool(rows) and entries.filter(pk__lt=rows[-1].pk).exists()
    else:
        if before is not None:
            entries = entries.filter(pk__lt=before)
        rows = list(entries[: size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        more_newer = before is not None and bool(rows)
    return AuditPage(
        entries=rows,
        newer_than=rows[0].pk if rows and more_newer else None,
        older_than=rows[-1].pk if rows and more_older else None,
    )


def yard_signs(*, delivered: bool) -> QuerySet[Site]:
    """The sites whose owners asked for a yard sign: still to deliver, oldest request first
    (the index site_yard_sign_pending), or delivered, latest delivery first."""
    requested = Site.objects.filter(yard_sign_requested=True).select_related(
        "yard_sign_delivered_by__user"
    )
    if delivered:
        return requested.filter(yard_sign_delivered_at__isnull=False).order_by(
            "-yard_sign_delivered_at", "-pk"
        )
    return requested.filter(yard_sign_delivered_at=None).order_by("created_at", "pk")
