"""Address lookup through a Nominatim-compatible geocoder, when one is configured.

With GEOCODER_URL unset the portal offers the map pin alone; nothing here is called.
"""

from __future__ import annotations

import http.client
import json
import math
import urllib.parse
import urllib.request

from django.conf import settings


class GeocoderUnavailable(Exception):
    """The geocoder did not answer usefully (down, slow, or not JSON)."""


def enabled() -> bool:
    return bool(settings.GEOCODER_URL)


def geocode(query: str, *, near: tuple[float, float]) -> tuple[float, float] | None:
    """The best match's (latitude, longitude), biased towards `near`, or None if nothing."""
    latitude, longitude = near
    # A viewbox about 0.5 degrees around the city keeps results local without excluding others.
    viewbox = f"{longitude - 0.5},{latitude + 0.5},{longitude + 0.5},{latitude - 0.5}"
    parameters = urllib.parse.urlencode(
        {"q": query, "format": "jsonv2", "limit": 1, "viewbox": viewbox, "countrycodes": "us"}
    )
    request = urllib.request.Request(
        f"{settings.GEOCODER_URL.rstrip('/')}/search?{parameters}",
        headers={"User-Agent": settings.GEOCODER_USER_AGENT},
    )
    # URLError and timeouts are OSErrors; a dropped connection or a cut-off body are
    # HTTPExceptions (RemoteDisconnected, IncompleteRead); a body that is not JSON, a ValueError.
    try:
        with urllib.request.urlopen(request, timeout=settings.GEOCODER_TIMEOUT) as response:
            results = json.load(response)
    except (OSError, http.client.HTTPException, ValueError) as error:
        raise GeocoderUnavailable from error
    if not isinstance(results, list):
        raise GeocoderUnavailable
    if not results:
        return None
    try:
        latitude, longitude = float(results[0]["lat"]), float(results[0]["lon"])
    except (KeyError, TypeError, ValueError) as error:
        raise GeocoderUnavailable from error
    # NaN, infinities or a place off the planet would reach the map and the distance maths.
    if not (
        math.isfinite(latitude)
        and math.isfinite(longitude)
        and -90 <= latitude <= 90
        and -180 <= longitude <= 180
    ):
        raise GeocoderUnavailable
    return latitude, longitude
