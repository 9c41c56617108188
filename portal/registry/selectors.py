"""Reads of the registry shared by both consoles, exports and jobs: the one distance search and
what a resident sees of the audit trail."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
from django.utils import timezone

from portal.registry.models import (
    AuditEntry,
    Camera,
    Participant,
    Site,
    SiteQuerySet,
    site_location,
)
from tenants.compiled import AnyOf, CompiledQuery
from tenants.models import EARTH_RADIUS_M

# Metres per degree of latitude on the same sphere as the haversine below.
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180


class LocatedIn(Func):
    """Whether a site's point lies in the box (south, west, north, east): `<@`, the question
    the location index (Site.Meta.indexes, GiST) answers. The box is written as SQL with its four
    numbers as parameters (built as nested expressions, it cost each search more Python than its
    statement costs PostgreSQL)."""

    output_field = BooleanField()

    def __init__(self, south: float, west: float, north: float, east: float) -> None:
        super().__init__(site_location())
        self.corners = (float(west), float(south), float(east), float(north))

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        location, params = compiler.compile(self.source_expressions[0])
        return f"{location} <@ box(point(%s, %s), point(%s, %s))", (*params, *self.corners)


class GreatCircleMetres(Func):
    """The great-circle (haversine) distance in metres from a site to a point, on the sphere of
    EARTH_RADIUS_M, as SQL with the point's numbers as parameters (`phi` its latitude and
    `lam` its longitude in radians, `cos_phi` the cosine of phi: NearNumbers): the same
    formula, operation for operation, that nested Django functions wrote before (ASin, Sqrt,
    Power, Sin, Radians), at a fraction of their Python cost per search."""

    output_field = FloatField()

    def __init__(self, phi: float, cos_phi: float, lam: float) -> None:
        super().__init__(F("latitude"), F("longitude"))
        self.numbers = (2 * EARTH_RADIUS_M, phi, cos_phi, lam)

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        latitude, latitude_params = compiler.compile(self.source_expressions[0])
        longitude, longitude_params = compiler.compile(self.source_expressions[1])
        diameter, phi, cos_phi, lam = self.numbers
        sql = (
            f"(%s * ASIN(SQRT(POWER(SIN((RADIANS({latitude}) - %s) / 2), 2)"
            f" + ((%s * COS(RADIANS({latitude})))"
            f" * POWER(SIN((RADIANS({longitude}) - %s) / 2), 2)))))"
        )
        params = (
            diameter,
            *latitude_params,
            phi,
            cos_phi,
            *latitude_params,
            *longitude_params,
            lam,
        )
        return sql, params


@dataclass(frozen=True)
class NearNumbers:
    """The numbers a distance search's SQL holds, from the point, the radius and the time seen:
    the box around the circle (south, west, north, east, in degrees), the point in radians for
    the haversine (phi, cos_phi, lam), the radius in metres, and how many days a camera must
    keep video to still hold the time seen (None: no time, every site's footage counts)."""

    south: float
    west: float
    north: float
    east: float
    phi: float
    cos_phi: float
    lam: float
    radius_m: float
    retention_days: int | None

    @classmethod
    def of(
        cls,
        *,
        latitude: float,
        longitude: float,
        radius_m: float,
        seen_at: datetime | None = None,
    ) -> NearNumbers:
        lat_delta = radius_m / METRES_PER_DEGREE
        cos_lat = max(math.cos(math.radians(latitude)), 1e-6)
        lng_delta = min(radius_m / (METRES_PER_DEGREE * cos_lat), 180.0)
        phi = math.radians(latitude)
        retention_days = None
        if seen_at is not None:
            age_days = max((timezone.now() - seen_at).total_seconds() / 86400, 0)
            retention_days = math.ceil(age_days)
        return cls(
            south=latitude - lat_delta,
            west=longitude - lng_delta,
            north=latitude + lat_delta,
            east=longitude + lng_delta,
            phi=phi,
            cos_phi=math.cos(phi),
            lam=math.radians(longitude),
            radius_m=float(radius_m),
            retention_days=retention_days,
        )

    def slots(self) -> dict[str, float | int]:
        """The numbers by name, as sites_near_query's slots (tenants.compiled) take them."""
        numbers = dataclasses.asdict(self)
        if numbers["retention_days"] is None:
            del numbers["retention_days"]
        return numbers


# NearNumbers' numbers that are floats (retention_days, an integer, is the other).
NEAR_FLOATS = tuple(
    field.name for field in dataclasses.fields(NearNumbers) if field.name != "retention_days"
)


def near_slots(*, timed: bool) -> dict[str, type]:
    """The slots of a kept query of the distance search (NearNumbers.slots()); `timed` when the
    search has a time seen (retention_days is then a slot)."""
    slots: dict[str, type] = dict.fromkeys(NEAR_FLOATS, float)
    if timed:
        slots["retention_days"] = int
    return slots


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
    numbers = NearNumbers.of(
        latitude=latitude, longitude=longitude, radius_m=radius_m, seen_at=seen_at
    )
    return sites_near_query(**dataclasses.asdict(numbers))


def sites_near_query(
    *,
    south: float,
    west: float,
    north: float,
    east: float,
    phi: float,
    cos_phi: float,
    lam: float,
    radius_m: float,
    retention_days: int | None = None,
) -> SiteQuerySet:
    """sites_near() from its numbers (NearNumbers): the one query of the distance search, which
    tenants.compiled may keep compiled with the numbers as its slots."""
    sites = (
        Site.objects.searchable()
        .filter(LocatedIn(south, west, north, east))
        .annotate(distance_m=GreatCircleMetres(phi, cos_phi, lam))
        .filter(distance_m__lte=radius_m)
        .order_by("distance_m", "pk")
    )
    if retention_days is None:
        return sites.annotate(footage_likely=Value(True))
    keeping = Camera.objects.active().filter(
        site=OuterRef("pk"), retention_days__gte=retention_days
    )
    return sites.annotate(footage_likely=Exists(keeping))


# What SITES_NEAR_AMONG reads of each site (distance_m is sites_near()'s annotation).
NEAR_AMONG_COLUMNS = ("pk", "distance_m")
# sites_near() among some sites, their keys and distances, kept compiled (tenants.compiled):
# the live cameras' search, on every canvass page of a city whose owners share cameras.
SITES_NEAR_AMONG = CompiledQuery(
    lambda site_ids, **numbers: (
        sites_near_query(**numbers)
        .filter(AnyOf(F("pk"), site_ids))
        .values_list(*NEAR_AMONG_COLUMNS)
    ),
    site_ids=list,
    **near_slots(timed=False),
)


def sites_near_among(
    site_ids: Sequence[int], *, latitude: float, longitude: float, radius_m: float
) -> dict[int, float]:
    """Those of these sites that sites_near() finds (searchable, within radius_m of the point),
    with their distances in metres, nearest first: the same search, without building and
    compiling its queryset at each call."""
    if not site_ids:
        return {}
    numbers = NearNumbers.of(latitude=latitude, longitude=longitude, radius_m=radius_m)
    return dict(SITES_NEAR_AMONG.rows(site_ids=list(site_ids), **numbers.slots()))


def audit_entries_about(participant: Participant) -> QuerySet[AuditEntry]:
    """What a resident sees of the audit trail: the entries about their own sites, and exports
    of the whole registry (which held their sites too)."""
    return AuditEntry.objects.filter(
        Q(participant_id=participant.pk)
        | Q(action=AuditEntry.Action.EXPORT, site_id__isnull=True, incident_id__isnull=True)
    )
