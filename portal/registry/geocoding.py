"""Finding a place by address, and the address of a place: the geocoder interface, its
providers (a Nominatim-compatible service, the US Census Bureau's geocoder, and a local street
list for the offline demo), and the one way the portal asks them (`search`, `reverse`), which
picks the department's provider (Program.geocoder) and keeps answers briefly in the cache.

A provider that is not configured is no provider: the portal then offers the map pin alone.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import json
import math
import re
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from tenants.account_lock import counter_add
from tenants.cache import LimitsUnavailable
from tenants.models import Department, Program

# Program.geocoder's values.
NONE, NOMINATIM, CENSUS, GAZETTEER = "none", "nominatim", "census", "gazetteer"

QUERY_MAX_LENGTH = 200


@dataclass(frozen=True)
class Place:
    """One answer: what to call the place, and where it is."""

    label: str
    latitude: float
    longitude: float

    def as_json(self) -> dict[str, Any]:
        return {"label": self.label, "latitude": self.latitude, "longitude": self.longitude}


class GeocoderUnavailable(Exception):
    """The geocoder did not answer usefully (down, slow, an error page, or not its JSON)."""


class ReverseNotOffered(Exception):
    """The provider finds places by address only (the Census geocoder has no address for a
    point): the person types the address."""


class Provider(Protocol):
    # Part of the cache key: two providers (or two servers) never share answers.
    key: str

    def search(self, query: str, near: tuple[float, float], limit: int) -> list[Place]:
        """Places matching the address, the most likely first, biased towards `near`."""
        ...

    def reverse(self, latitude: float, longitude: float) -> Place | None:
        """The address at the point, None if there is none; ReverseNotOffered if the provider
        cannot tell."""
        ...


def _coordinate(latitude: Any, longitude: Any) -> tuple[float, float]:
    """A provider's coordinates as floats on the planet; anything else is a broken answer
    (NaN, infinities or a place off the planet would reach the map and the distance maths)."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError) as error:
        raise GeocoderUnavailable from error
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise GeocoderUnavailable
    return lat, lon


def _label(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise GeocoderUnavailable
    return value.strip()[:300]


def _get_json(url: str, *, timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": settings.GEOCODER_USER_AGENT})
    # URLError and timeouts are OSErrors; a dropped connection or a cut-off body are
    # HTTPExceptions (RemoteDisconnected, IncompleteRead); a body that is not JSON, a ValueError.
    # An HTTP error status is an HTTPError (an OSError) too.
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read(2_000_000))
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise GeocoderUnavailable from error


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle (haversine) distance in metres."""
    phi1, phi2 = math.radians(a[0]), math.radians(b[0])
    d_phi, d_lambda = phi2 - phi1, math.radians(b[1] - a[1])
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))


class Nominatim:
    """A Nominatim-compatible service (OpenStreetMap's, or the deployment's own): /search and
    /reverse in the jsonv2 format."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.key = f"nominatim:{self.base_url}"

    def search(self, query: str, near: tuple[float, float], limit: int) -> list[Place]:
        latitude, longitude = near
        # A viewbox about 0.5 degrees around the city keeps results local without excluding
        # others.
        viewbox = f"{longitude - 0.5},{latitude + 0.5},{longitude + 0.5},{latitude - 0.5}"
        parameters = urllib.parse.urlencode(
            {
                "q": query,
                "format": "jsonv2",
                "limit": limit,
                "viewbox": viewbox,
                "countrycodes": "us",
            }
        )
        results = _get_json(f"{self.base_url}/search?{parameters}", timeout=self.timeout)
        if not isinstance(results, list):
            raise GeocoderUnavailable
        places = []
        for result in results[:limit]:
            if not isinstance(result, dict):
                raise GeocoderUnavailable
            lat, lon = _coordinate(result.get("lat"), result.get("lon"))
            places.append(Place(_label(result.get("display_name", query)), lat, lon))
        return places

    def reverse(self, latitude: float, longitude: float) -> Place | None:
        parameters = urllib.parse.urlencode(
            {"lat": f"{latitude:.6f}", "lon": f"{longitude:.6f}", "format": "jsonv2"}
        )
        result = _get_json(f"{self.base_url}/reverse?{parameters}", timeout=self.timeout)
        if not isinstance(result, dict):
            raise GeocoderUnavailable
        if "error" in result and "lat" not in result:
            return None  # Nominatim's "Unable to geocode": nothing there
        lat, lon = _coordinate(result.get("lat"), result.get("lon"))
        return Place(_label(result.get("display_name")), lat, lon)


class Census:
    """The US Census Bureau's geocoder (geocoding.geo.census.gov): one-line address search
    against the current address ranges. It has no address lookup for a point."""

    def __init__(self, base_url: str, *, benchmark: str, timeout: float, locality: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.benchmark = benchmark
        self.timeout = timeout
        # "Concord, NC": added to an address typed without its city, which the Census needs.
        self.locality = locality
        self.key = f"census:{self.base_url}:{benchmark}:{locality}"

    def search(self, query: str, near: tuple[float, float], limit: int) -> list[Place]:
        address = query if "," in query or not self.locality else f"{query}, {self.locality}"
        parameters = urllib.parse.urlencode(
            {"address": address, "benchmark": self.benchmark, "format": "json"}
        )
        answer = _get_json(
            f"{self.base_url}/locations/onelineaddress?{parameters}", timeout=self.timeout
        )
        try:
            matches = answer["result"]["addressMatches"]
        except (KeyError, TypeError) as error:
            raise GeocoderUnavailable from error
        if not isinstance(matches, list):
            raise GeocoderUnavailable
        places = []
        for match in matches:
            try:
                coordinates = match["coordinates"]
                lat, lon = _coordinate(coordinates["y"], coordinates["x"])
                label = _label(match["matchedAddress"])
            except (KeyError, TypeError) as error:
                raise GeocoderUnavailable from error
            places.append(Place(label, lat, lon))
        # The Census knows no "near": the closest of equally good matches first.
        places.sort(key=lambda place: distance_m(near, (place.latitude, place.longitude)))
        return places[:limit]

    def reverse(self, latitude: float, longitude: float) -> Place | None:
        raise ReverseNotOffered


# --- The local street list (the offline demo's provider) ---

# How people abbreviate street words, written the way the street list writes them.
ABBREVIATIONS = {
    "street": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "drive": "dr",
    "boulevard": "blvd",
    "highway": "hwy",
    "parkway": "pkwy",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "northeast": "ne",
    "northwest": "nw",
    "southeast": "se",
    "southwest": "sw",
}


def _words(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [ABBREVIATIONS.get(word, word) for word in words]


@dataclass(frozen=True)
class Segment:
    """A stretch of street whose house numbers run from `first` at `start` to `last` at `end`."""

    street: str
    first: int
    last: int
    start: tuple[float, float]
    end: tuple[float, float]
    zip: str

    def at(self, number: int) -> tuple[float, float]:
        share = 0.5 if self.last == self.first else (number - self.first) / (self.last - self.first)
        return (
            round(self.start[0] + share * (self.end[0] - self.start[0]), 6),
            round(self.start[1] + share * (self.end[1] - self.start[1]), 6),
        )

    def holds(self, number: int) -> bool:
        return min(self.first, self.last) <= number <= max(self.first, self.last)


@dataclass(frozen=True)
class StreetList:
    """One city's streets (a file of the gazetteer directory)."""

    city: str
    state: str
    segments: tuple[Segment, ...]

    def covers(self, point: tuple[float, float], margin_m: float) -> bool:
        return any(
            distance_m(point, segment.start) <= margin_m
            or distance_m(point, segment.end) <= margin_m
            for segment in self.segments
        )

    def label(self, number: int | None, segment: Segment) -> str:
        street = f"{number} {segment.street}" if number is not None else segment.street
        return f"{street}, {self.city}, {self.state} {segment.zip}".strip()


def street_list_read(path: Path) -> StreetList:
    data = json.loads(path.read_text(encoding="utf-8"))
    return StreetList(
        city=data["city"],
        state=data["state"],
        segments=tuple(
            Segment(
                street=row["street"],
                first=int(row["from"]),
                last=int(row["to"]),
                start=(float(row["start"][0]), float(row["start"][1])),
                end=(float(row["end"][0]), float(row["end"][1])),
                zip=str(row.get("zip", data.get("zip", ""))),
            )
            for row in data["segments"]
        ),
    )


@functools.lru_cache(maxsize=8)
def street_lists(directory: str) -> tuple[StreetList, ...]:
    return tuple(street_list_read(path) for path in sorted(Path(directory).glob("*.json")))


class Gazetteer:
    """Street segments with house-number ranges read from local files (one per city), numbers
    placed by interpolation between the segment's ends: no network at all."""

    # A city's list answers for points this close to one of its streets' ends.
    CITY_MARGIN_M = 40_000
    # A click farther than this from every street has no address.
    REVERSE_MAX_M = 250

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.key = f"gazetteer:{directory}"

    def _lists(self, point: tuple[float, float]) -> Iterable[StreetList]:
        return (
            streets
            for streets in street_lists(self.directory)
            if streets.covers(point, self.CITY_MARGIN_M)
        )

    def search(self, query: str, near: tuple[float, float], limit: int) -> list[Place]:
        # "77 Union Street South, Concord, NC": the number, then the street; the city after the
        # first comma is the list's own.
        words = _words(query.split(",")[0])
        number = int(words.pop(0)) if words and words[0].isdigit() else None
        if not words:
            return []
        places: list[Place] = []
        seen: set[str] = set()
        for streets in self._lists(near):
            for segment in streets.segments:
                if not _street_matches(words, _words(segment.street)):
                    continue
                if number is not None and not segment.holds(number):
                    continue
                label = streets.label(number, segment)
                if label in seen:
                    continue
                seen.add(label)
                point = segment.at(
                    number if number is not None else (segment.first + segment.last) // 2
                )
                places.append(Place(label, *point))
        return places[:limit]

    def reverse(self, latitude: float, longitude: float) -> Place | None:
        point = (latitude, longitude)
        best: tuple[float, StreetList, Segment, float] | None = None
        for streets in self._lists(point):
            for segment in streets.segments:
                share, distance = _projection(point, segment.start, segment.end)
                if best is None or distance < best[0]:
                    best = (distance, streets, segment, share)
        if best is None or best[0] > self.REVERSE_MAX_M:
            return None
        _, streets, segment, share = best
        number = round(segment.first + share * (segment.last - segment.first))
        return Place(streets.label(number, segment), *segment.at(number))


def _street_matches(typed: list[str], street: list[str]) -> bool:
    """Every word typed is the start of one of the street's words, in order (autocomplete:
    "union s" finds "Union St S")."""
    position = 0
    for word in typed:
        while position < len(street) and not street[position].startswith(word):
            position += 1
        if position == len(street):
            return False
        position += 1
    return True


def _projection(
    point: tuple[float, float], start: tuple[float, float], end: tuple[float, float]
) -> tuple[float, float]:
    """Where the point falls along the segment (0 at start, 1 at end) and how far from it, in
    metres (flat-earth maths, good over a few kilometres)."""
    scale = math.cos(math.radians(point[0]))
    ax, ay = start[1] * scale, start[0]
    bx, by = end[1] * scale, end[0]
    px, py = point[1] * scale, point[0]
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    share = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    nearest = (start[0] + share * (end[0] - start[0]), start[1] + share * (end[1] - start[1]))
    return share, distance_m(point, nearest)


# --- The department's provider, and the cached questions ---


def provider_for(program: Program) -> Provider | None:
    """The department's geocoder (Program.geocoder), None when it has none or the deployment
    does not configure it."""
    choice = program.geocoder
    timeout = settings.GEOCODER_TIMEOUT
    if choice == NOMINATIM and settings.GEOCODER_URL:
        return Nominatim(settings.GEOCODER_URL, timeout=timeout)
    if choice == CENSUS and settings.GEOCODER_CENSUS_URL:
        department = program.department
        return Census(
            settings.GEOCODER_CENSUS_URL,
            benchmark=settings.GEOCODER_CENSUS_BENCHMARK,
            timeout=timeout,
            locality=f"{department.city}, {department.state}",
        )
    if choice == GAZETTEER and settings.GEOCODER_GAZETTEER_DIR:
        return Gazetteer(settings.GEOCODER_GAZETTEER_DIR)
    return None


def enabled(program: Program) -> bool:
    return provider_for(program) is not None


def _cache_key(provider: Provider, *parts: object) -> str:
    digest = hashlib.sha256(repr((provider.key, *parts)).encode()).hexdigest()[:32]
    return f"geocoder:{digest}"


def search(program: Program, query: str, *, limit: int = 5) -> list[Place]:
    """Places for an address typed in the department's city, from its provider; answers (a
    place found or none) are kept GEOCODER_CACHE_SECONDS so that typing does not repeat a
    question. GeocoderUnavailable when the provider fails (or there is none)."""
    provider = provider_for(program)
    if provider is None:
        raise GeocoderUnavailable
    query = " ".join(query.split())[:QUERY_MAX_LENGTH]
    near = (program.center_latitude, program.center_longitude)
    key = _cache_key(provider, "search", query.lower(), round(near[0], 3), round(near[1], 3), limit)
    kept = cache.get(key)
    if kept is not None:
        return [Place(*row) for row in kept]
    places = provider.search(query, near, limit)
    cache.set(
        key,
        [(p.label, p.latitude, p.longitude) for p in places],
        settings.GEOCODER_CACHE_SECONDS,
    )
    return places


def reverse(program: Program, latitude: float, longitude: float) -> Place | None:
    """The address at a point (to about a metre), from the department's provider, cached like
    `search`. ReverseNotOffered when the provider cannot tell."""
    provider = provider_for(program)
    if provider is None:
        raise GeocoderUnavailable
    key = _cache_key(provider, "reverse", round(latitude, 5), round(longitude, 5))
    kept = cache.get(key)
    if kept is not None:
        return Place(*kept) if kept else None
    place = provider.reverse(latitude, longitude)
    cache.set(
        key,
        (place.label, place.latitude, place.longitude) if place else (),
        settings.GEOCODER_CACHE_SECONDS,
    )
    return place


def geocode(program: Program, address: str) -> Place | None:
    """The best place for an address, for forms that place something from its address alone:
    None when nothing is found, GeocoderUnavailable when the provider fails."""
    places = search(program, address, limit=1)
    return places[0] if places else None


def demo_gazetteer_use(department: Department) -> list[str]:
    """The demo seeder (tenants.demo.DEMO_SEEDERS): a demo city with a street list in the
    gazetteer directory (named by its subdomain) reads it and searches addresses with it, so
    that the demo works offline."""
    directory = settings.GEOCODER_GAZETTEER_DIR
    path = Path(directory) / f"{department.schema_name}.json" if directory else None
    if path is None or not path.is_file():
        return []
    streets = street_list_read(path)  # a broken file stops the demo here, not on a page
    program = department.program
    if program.geocoder != GAZETTEER:
        program.geocoder = GAZETTEER
        program.save(update_fields=["geocoder"])
    return [f"Address search: the local street list ({len(streets.segments)} street segments)."]


# --- What the address search endpoints answer (the resident portal's and the console's) ---

QUERY_MIN_LENGTH = 3


def _too_often(who: str) -> bool:
    """Whether this person asked more than GEOCODER_REQUESTS_PER_MINUTE questions this minute
    (a shared cache that does not answer waives the limit: it protects the provider, not an
    account)."""
    try:
        asked = counter_add(f"geocoder-asked:{who}", 60)
    except LimitsUnavailable:
        return False
    return asked > settings.GEOCODER_REQUESTS_PER_MINUTE


def search_answer(program: Program, query: str, *, who: str) -> tuple[dict[str, Any], int]:
    """An address search as (JSON body, HTTP status): {"places": [...]}, or {"error": message}
    in the person's language."""
    query = " ".join(query.split())[:QUERY_MAX_LENGTH]
    if len(query) < QUERY_MIN_LENGTH:
        return {"error": _("Type at least 3 characters of the address.")}, 400
    if _too_often(who):
        return {"error": too_often_message()}, 429
    try:
        places = search(program, query)
    except GeocoderUnavailable:
        return {"error": unavailable_message()}, 503
    if not places:
        return {"error": _("No place found for that address.")}, 404
    return {"places": [place.as_json() for place in places]}, 200


def reverse_answer(
    program: Program, latitude: str, longitude: str, *, who: str
) -> tuple[dict[str, Any], int]:
    """The address at a clicked point as (JSON body, HTTP status): {"place": {...}}, or
    {"error": message}."""
    try:
        lat, lon = _coordinate(latitude, longitude)
    except GeocoderUnavailable:
        return {"error": _("Give the latitude and longitude of a point on the map.")}, 400
    if _too_often(who):
        return {"error": too_often_message()}, 429
    try:
        place = reverse(program, lat, lon)
    except ReverseNotOffered:
        return {"error": _("This address search cannot name the address of a point; type it.")}, 501
    except GeocoderUnavailable:
        return {"error": _("Address search is not available right now; type the address.")}, 503
    if place is None:
        return {"error": _("No address found at this point; type the address.")}, 404
    return {"place": place.as_json()}, 200


def unavailable_message() -> str:
    return _("Address search is not available right now; place the pin on the map.")


def too_often_message() -> str:
    return _("Too many address searches in a minute; wait a moment, or place the pin on the map.")
