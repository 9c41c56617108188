"""The coarse areas the page counts sites in: the US ZIP code whose centre (the zipcodes
package's bundled data, no service asked) is nearest to the site, among the ZIP codes within
the program's service area. Sites are placed by their position rounded to about 100 m first,
which is both faster and coarser; a site with no ZIP code nearby counts under OTHER."""

from __future__ import annotations

import functools
import math

import zipcodes

OTHER = "other"
# ZIP centres this far outside the service circle still compete for its edge.
MARGIN_M = 10_000
EARTH_RADIUS_M = 6_371_000


@functools.cache
def _all_centres() -> tuple[tuple[str, float, float], ...]:
    return tuple(
        (row["zip_code"], float(row["lat"]), float(row["long"]))
        for row in zipcodes.filter_by(zip_code_type="STANDARD")
        if row.get("lat") and row.get("long")
    )


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return EARTH_RADIUS_M * math.hypot(x, y)


class AreaFinder:
    """Nearest ZIP centre for positions in one program's service area."""

    def __init__(self, latitude: float, longitude: float, radius_m: float) -> None:
        reach = radius_m + MARGIN_M
        self.centres = [
            centre
            for centre in _all_centres()
            if _distance_m(latitude, longitude, centre[1], centre[2]) <= reach
        ]
        self._cache: dict[tuple[float, float], str] = {}

    def area(self, latitude: float, longitude: float) -> str:
        key = (round(latitude, 3), round(longitude, 3))
        found = self._cache.get(key)
        if found is None:
            found = min(
                self.centres,
                key=lambda centre: _distance_m(key[0], key[1], centre[1], centre[2]),
                default=(OTHER, 0.0, 0.0),
            )[0]
            self._cache[key] = found
        return found
