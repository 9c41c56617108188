"""Distances as a department's people read and type them: feet and miles (US departments, the
default) or meters and kilometers. Every stored distance is in meters; these functions are the
one place that converts, so a radius typed in feet and a distance shown in miles cannot drift.
"""

from __future__ import annotations

from django.utils.formats import number_format
from django.utils.translation import gettext as _

METRES_PER_FOOT = 0.3048
METRES_PER_MILE = 1609.344
IMPERIAL = "imperial"
METRIC = "metric"


def _tenths(value: float) -> float | int:
    """One decimal below 10, whole above; "1 mi", not "1.0 mi"."""
    rounded = round(value, 1) if value < 10 else round(value)
    return int(rounded) if rounded == int(rounded) else rounded


def units_of(program: object | None) -> str:
    """The program's units, imperial when there is no program (the platform, a test page)."""
    return getattr(program, "distance_units", None) or IMPERIAL


def format_distance(metres: float | int | None, units: str = IMPERIAL) -> str:
    """A distance for reading: "350 ft", "0.4 mi", "12 mi" or "350 m", "1.2 km".

    Feet below a tenth of a mile (528 ft), rounded to 10 ft above 100 ft; miles with one
    decimal below 10, whole above. Meters below 1 km, kilometers likewise."""
    if metres is None:
        return ""
    metres = float(metres)
    if units == METRIC:
        if metres < 1000:
            return _("%(n)s m") % {"n": number_format(round(metres))}
        km = metres / 1000
        return _("%(n)s km") % {"n": number_format(_tenths(km))}
    feet = metres / METRES_PER_FOOT
    if feet < 528:
        rounded = round(feet) if feet < 100 else round(feet, -1)
        return _("%(n)s ft") % {"n": number_format(int(rounded))}
    miles = metres / METRES_PER_MILE
    return _("%(n)s mi") % {"n": number_format(_tenths(miles))}


def to_metres(value: float, unit: str) -> float:
    """A typed distance in meters; `unit` is "ft", "mi", "m" or "km"."""
    factor = {"ft": METRES_PER_FOOT, "mi": METRES_PER_MILE, "m": 1.0, "km": 1000.0}[unit]
    return value * factor


def input_unit(units: str) -> str:
    """The unit a radius is typed in: feet for imperial, meters for metric."""
    return "ft" if units == IMPERIAL else "m"


def from_metres(metres: float, unit: str) -> float:
    """Meters as `unit` ("ft", "mi", "m", "km"), unrounded."""
    return metres / to_metres(1.0, unit)
