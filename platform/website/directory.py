"""The directory of participating cities on the platform site (/cities/): each listed department's
program name, city and state, logo and portal link, searched by city, program, state or ZIP code,
and the same departments on a map (map.json). Who is listed is one rule,
tenants.models.DepartmentQuerySet.listed(); this module only reads it."""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import zipcodes
from csp.decorators import csp_update
from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from tenants.models import EARTH_RADIUS_M, Department
from tenants.units import IMPERIAL, format_distance

PAGE_SIZE = 50
# A ZIP code outside every service area still lists the programs this close to it (measured
# from the ZIP code's centre to the edge of their service area).
NEARBY_M = 50_000
# The map's data is the same for everyone: computed at most this often per cache, so a listing
# change (a new city, a department unticking "listed", a suspension) reaches the map within it.
# The list itself always reads the database.
MAP_CACHE_SECONDS = 60
MAP_CACHE_KEY = "website:directory:map:v1"
QUERY_MAX_LENGTH = 100
ZIP_CODE = re.compile(r"^(\d{5})(?:-?\d{4})?$")
# Where a department asks for a program of its own (onboarding.urls, mounted there).
PROGRAM_REQUEST_PATH = "/request/"

US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puerto rico": "PR",
}  # fmt: skip
STATE_CODES = frozenset(US_STATES.values())


@dataclass(frozen=True)
class ZipCentre:
    """A US ZIP code's centre, as the zipcodes package knows it (no service is asked)."""

    zip_code: str
    city: str
    state: str
    latitude: float
    longitude: float


@functools.lru_cache(maxsize=4096)
def zip_centre(zip_code: str) -> ZipCentre | None:
    """The centre of a five-digit ZIP code, or None for one that does not exist. The package
    unpacks its data on its first lookup in a process (about 0.4 s, 37 MB); each lookup after
    that scans it in compiled code (under 1 ms), and repeated ones come from this cache."""
    try:
        found = zipcodes.matching(zip_code)
    except ValueError:
        return None
    for row in found:
        if row.get("lat") and row.get("long"):
            return ZipCentre(
                zip_code=row["zip_code"],
                city=row["city"],
                state=row["state"],
                latitude=float(row["lat"]),
                longitude=float(row["long"]),
            )
    return None


def _distance_m(latitude: float, longitude: float) -> ExpressionWrapper:
    """Great-circle (haversine) distance in metres from a point to each program's centre, in SQL:
    the same formula as tenants.models.Program.distance_from_center_m."""
    centre_latitude = F("program__center_latitude")
    half_d_phi = Radians(centre_latitude - latitude) / 2
    half_d_lambda = Radians(F("program__center_longitude") - longitude) / 2
    haversine: CombinedExpression = Power(Sin(half_d_phi), 2) + math.cos(
        math.radians(latitude)
    ) * Cos(Radians(centre_latitude)) * Power(Sin(half_d_lambda), 2)
    return ExpressionWrapper(
        2 * EARTH_RADIUS_M * ASin(Least(Sqrt(haversine), Value(1.0))),
        output_field=FloatField(),
    )


def listed_departments() -> QuerySet[Department]:
    """The listed departments with what the directory shows and nothing else: one query, the
    branding, programme and primary address joined (so Department.url asks nothing more)."""
    return (
        Department.objects.listed()
        .annotate(
            primary_address=FilteredRelation("domains", condition=Q(domains__is_primary=True))
        )
        .select_related("branding", "program")
        .only(
            "schema_name",
            "city",
            "state",
            "branding__display_name",
            "branding__logo",
            "program__center_latitude",
            "program__center_longitude",
            "program__service_radius_m",
        )
        .annotate(primary_host=F("primary_address__domain"))
        .filter(primary_host__isnull=False, branding__isnull=False, program__isnull=False)
    )


def _primed(department: Department) -> Department:
    """Department.primary_domain is a cached_property: the annotated address takes its place, so
    Department.url asks the database nothing."""
    department.__dict__["primary_domain"] = department.__dict__["primary_host"]
    return department


@dataclass(frozen=True)
class DirectorySearch:
    """What a search asked for and found: the departments in the order to list them, the ZIP
    code's centre when the query was one, and a message when the query could not be used."""

    query: str
    departments: QuerySet[Department]
    zip_centre: ZipCentre | None = None
    unknown_zip: str = ""
    # How far beyond its service area a program is listed for a ZIP code, for the page to say.
    nearby_m: int = NEARBY_M


def directory_search(*, query: str) -> DirectorySearch:
    """Every listed department, by state, city and name; for a ZIP code (or ZIP+4) the programs
    whose service area holds its centre first, then those within NEARBY_M of it, nearest first;
    for a state's two-letter code, that state's; for any other text, those whose city or program
    name holds it (case-insensitive) or whose state it names in full."""
    # Control characters (a NUL byte PostgreSQL refuses) are no part of any name.
    query = " ".join("".join(c for c in query if c.isprintable()).split())[:QUERY_MAX_LENGTH]
    listed = listed_departments()
    zip_match = ZIP_CODE.match(query)
    if zip_match:
        centre = zip_centre(zip_match.group(1))
        if centre is None:
            return DirectorySearch(query, listed.none(), unknown_zip=zip_match.group(1))
        near = listed.annotate(distance_m=_distance_m(centre.latitude, centre.longitude))
        near = near.filter(distance_m__lte=F("program__service_radius_m") + NEARBY_M).annotate(
            serves=Case(
                When(distance_m__lte=F("program__service_radius_m"), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        return DirectorySearch(query, near.order_by("-serves", "distance_m", "pk"), centre)
    ordered = listed.order_by("state", "city", "branding__display_name", "pk")
    if not query:
        return DirectorySearch(query, ordered)
    if query.upper() in STATE_CODES:
        # Two letters that are a state's code mean the state, not every name holding them.
        return DirectorySearch(query, ordered.filter(state=query.upper()))
    matches = Q(city__icontains=query) | Q(branding__display_name__icontains=query)
    if query.lower() in US_STATES:
        matches |= Q(state=US_STATES[query.lower()])
    return DirectorySearch(query, ordered.filter(matches))


@dataclass(frozen=True)
class DirectoryEntry:
    """One city as the directory shows it."""

    name: str
    city: str
    state: str
    url: str
    logo_url: str
    initial: str
    serves: bool = False
    distance: str = ""


def logo_url(department: Department) -> str:
    """The logo's public address: the storage's own (a bucket or CDN, allowed by CSP_IMG_SRC), or,
    for files the portals serve themselves, the same path on the department's portal."""
    logo = department.branding.logo
    if not logo:
        return ""
    url = logo.url
    return department.url(url) if url.startswith("/") else url


def directory_entries(departments: Page[Department] | list[Department]) -> list[DirectoryEntry]:
    """The page's departments as entries; the distance's wording translated once, not per row."""
    away = _("%(distance)s away")
    entries = []
    for department in departments:
        _primed(department)
        name = department.branding.display_name
        distance = getattr(department, "distance_m", None)
        entries.append(
            DirectoryEntry(
                name=name,
                city=department.city,
                state=department.state,
                url=department.url("/"),
                logo_url=logo_url(department),
                initial=name[:1].upper(),
                serves=bool(getattr(department, "serves", False)),
                distance=(
                    away % {"distance": format_distance(distance, IMPERIAL)}
                    if distance is not None
                    else ""
                ),
            )
        )
    return entries


def map_cities() -> list[dict[str, Any]]:
    """Every listed department on the map: public facts only (no schema, no address of anyone)."""
    return [
        {
            "name": department.branding.display_name,
            "city": department.city,
            "state": department.state,
            "url": department.url("/"),
            "lat": round(department.program.center_latitude, 5),
            "lng": round(department.program.center_longitude, 5),
        }
        for department in map(_primed, listed_departments().order_by("state", "city", "pk"))
    ]


def _portal_image_origin() -> str:
    """The portals' origin pattern, for logos a portal serves itself (file storage)."""
    port = f":{settings.PORTAL_URL_PORT}" if settings.PORTAL_URL_PORT else ""
    return f"{settings.PORTAL_URL_SCHEME}://*.{settings.CANVASS_BASE_DOMAIN}{port}"


@csp_update({"img-src": [_portal_image_origin()]})
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    search = directory_search(query=request.GET.get("q", ""))
    page = Paginator(search.departments, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "website/directory.html",
        {
            "search": search,
            "page": page,
            "entries": directory_entries(page),
            "request_path": PROGRAM_REQUEST_PATH,
            "map_tiles": settings.MAP_TILE_URL,
            "map_attribution": settings.MAP_TILE_ATTRIBUTION,
        },
    )


@require_safe
def map_data(request: HttpRequest) -> HttpResponse:
    # Kept encoded: a thousand cities' JSON is built once a minute, not on each request.
    body = cache.get(MAP_CACHE_KEY)
    if body is None:
        body = json.dumps(map_cities(), ensure_ascii=False, separators=(",", ":"))
        cache.set(MAP_CACHE_KEY, body, MAP_CACHE_SECONDS)
    response = HttpResponse(body, content_type="application/json")
    patch_cache_control(response, public=True, max_age=MAP_CACHE_SECONDS)
    return response
