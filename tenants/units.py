"""Distances as a department's people read and type them: feet and miles (US departments, the
default) or meters and kilometers. Every stored distance is in meters; these functions are the
one place that converts, so a radius typed in feet and a distance shown in miles cannot drift.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import numberformat
from django.utils.formats import get_format, number_format
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

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
    return distance_formatter(units)(metres)


def distance_formatter(units: str = IMPERIAL) -> Callable[[float | int | None], str]:
    """format_distance() in this units and the current language, its words and number format
    looked up once for a list of distances (a canvass's rows), not once a distance."""
    if units == METRIC:
        short, long_ = _("%(n)s m"), _("%(n)s km")
    else:
        short, long_ = _("%(n)s ft"), _("%(n)s mi")
    number = number_formatter()

    def distance(metres: float | int | None) -> str:
        if metres is None:
            return ""
        metres = float(metres)
        if units == METRIC:
            if metres < 1000:
                return short % {"n": number(round(metres))}
            return long_ % {"n": number(_tenths(metres / 1000))}
        feet = metres / METRES_PER_FOOT
        if feet < 528:
            rounded = round(feet) if feet < 100 else round(feet, -1)
            return short % {"n": number(int(rounded))}
        return long_ % {"n": number(_tenths(metres / METRES_PER_MILE))}

    return distance


def number_formatter() -> Callable[[float | int], str]:
    """Django's number_format() in the current language, its separators looked up once."""
    decimal = get_format("DECIMAL_SEPARATOR")
    grouping = get_format("NUMBER_GROUPING")
    thousands = get_format("THOUSAND_SEPARATOR")

    def number(value: float | int) -> str:
        return str(numberformat.format(value, decimal, None, grouping, thousands))

    return number


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


# The unit a long distance (a service area) is typed in, by the unit of short ones.
LONG_UNIT = {"ft": "mi", "m": "km"}
UNIT_NAMES = {
    "ft": gettext_lazy("feet"),
    "mi": gettext_lazy("miles"),
    "m": gettext_lazy("meters"),
    "km": gettext_lazy("kilometers"),
}
# What people may write after the number ("1500 ft", "0.5 mi", "300 m"), in either language.
UNIT_WORDS = {
    "ft": "ft",
    "feet": "ft",
    "foot": "ft",
    "pies": "ft",
    "pie": "ft",
    "mi": "mi",
    "mile": "mi",
    "miles": "mi",
    "milla": "mi",
    "millas": "mi",
    "m": "m",
    "meter": "m",
    "meters": "m",
    "metro": "m",
    "metros": "m",
    "km": "km",
    "kilometer": "km",
    "kilometers": "km",
    "kilómetro": "km",
    "kilómetros": "km",
}
_TYPED = re.compile(r"^(?P<number>[0-9.,\s]+?)\s*(?P<unit>[^\d\s.,]+)?$")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")


def typed_value(metres: float, unit: str) -> str:
    """Meters written in `unit` for a form's input, with as few decimals as give back the same
    whole number of meters (an unchanged form saves an unchanged distance)."""
    value = from_metres(metres, unit)
    whole = round(metres)
    for decimals in range(5):
        text = f"{value:.{decimals}f}"
        if round(to_metres(float(text), unit)) == whole:
            return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{value:.5f}"


def format_typed(metres: float, unit: str, *, rounding: str = "nearest") -> str:
    """Meters written in the unit a form takes ("6,561 ft", "0.4 mi"), rounded down for a
    largest value and up for a smallest one, so that the number shown is itself accepted."""
    value = from_metres(metres, unit)
    places = 0 if unit in {"ft", "m"} else 2
    scaled = value * 10**places
    scaled = {"down": math.floor, "up": math.ceil}.get(rounding, round)(round(scaled, 6))
    number: float | int = scaled / 10**places if places else int(scaled)
    if isinstance(number, float) and number == int(number):
        number = int(number)
    written = number_format(number)
    return {
        "ft": _("%(n)s ft"),
        "mi": _("%(n)s mi"),
        "m": _("%(n)s m"),
        "km": _("%(n)s km"),
    }[unit] % {"n": written}


def _number(text: str) -> float | None:
    """A typed number: "1500", "1,500" (thousands), "0.5", "0,5" (a decimal comma)."""
    text = text.replace(" ", "").replace("\u00a0", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    elif text.count(",") == 1 and "." not in text:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class DistanceField(forms.Field):
    """A distance typed in the department's unit and cleaned to whole meters, the one way every
    form reads one: feet (or miles for `long` distances) for imperial departments, meters (or
    kilometers) for metric ones. A unit written after the number ("0.5 mi") is honored.

    The form calls `use_units(units)` with the department's units (Program.distance_units);
    initial values are meters, shown in the unit."""

    widget = forms.TextInput

    def __init__(
        self,
        *,
        units: str = IMPERIAL,
        long: bool = False,
        min_metres: float | None = None,
        max_metres: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.long = long
        self.min_metres, self.max_metres = min_metres, max_metres
        self.plain_label = kwargs.pop("label", None)
        super().__init__(**kwargs)
        self.use_units(units)

    def use_units(self, units: str) -> None:
        short = input_unit(units)
        self.units = units
        self.unit = LONG_UNIT[short] if self.long else short
        if self.plain_label is not None:
            self.label = format_lazy(
                gettext_lazy("{label} ({unit})"), label=self.plain_label, unit=UNIT_NAMES[self.unit]
            )
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return typed_value(value, self.unit)
        return value

    def to_python(self, value: Any) -> float | None:
        """The distance in meters (unrounded), None when empty."""
        if value in self.empty_values:
            return None
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value).strip().lower()
        typed = _TYPED.match(text)
        unit = self.unit
        if typed and typed.group("unit"):
            unit = UNIT_WORDS.get(typed.group("unit").rstrip("."), "")
        number = _number(typed.group("number")) if typed else None
        if text.startswith("-") and _number(text[1:].split(" ")[0]) is not None:
            raise ValidationError(_("A distance cannot be negative."), code="negative")
        if number is None or not unit:
            raise ValidationError(
                _("Type a distance in %(unit)s, a number such as %(example)s.")
                % {"unit": UNIT_NAMES[self.unit], "example": "0.5" if self.long else "500"},
                code="invalid",
            )
        return to_metres(number, unit)

    def validate(self, value: float | None) -> None:
        super().validate(value)
        if value is None:
            return
        if value <= 0:
            raise ValidationError(_("A distance must be more than zero."), code="min_value")
        if self.min_metres is not None and round(value) < self.min_metres:
            raise ValidationError(
                _("Type at least %(least)s.")
                % {"least": format_typed(self.min_metres, self.unit, rounding="up")},
                code="min_value",
            )
        if self.max_metres is not None and round(value) > self.max_metres:
            raise ValidationError(
                _("Type at most %(most)s.")
                % {"most": format_typed(self.max_metres, self.unit, rounding="down")},
                code="max_value",
            )

    def clean(self, value: Any) -> int | None:
        metres = super().clean(value)
        return None if metres is None else round(metres)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            typed = self.to_python(data)
        except ValidationError:
            return True
        before = None if initial in self.empty_values else round(float(initial))
        return before != (None if typed is None else round(typed))


SQUARE_METRES_PER_SQUARE_MILE = METRES_PER_MILE**2


def format_area(square_metres: float, units: str = IMPERIAL) -> str:
    """An area for reading: "3.9 square miles", "1 square mile" or "10 square kilometers"."""
    # ngettext counts whole numbers: 0.4 and 1.5 read as plurals, exactly 1 as the singular.
    if units == METRIC:
        value = _tenths(square_metres / 1_000_000)
        count = 1 if value == 1 else 2
        written = ngettext("%(n)s square kilometer", "%(n)s square kilometers", count)
    else:
        value = _tenths(square_metres / SQUARE_METRES_PER_SQUARE_MILE)
        count = 1 if value == 1 else 2
        written = ngettext("%(n)s square mile", "%(n)s square miles", count)
    return written % {"n": number_format(value)}
