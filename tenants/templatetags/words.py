"""Template filters for writing numbers, times and places the same way in every language."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def before_full_stop(value: object) -> str:
    """A value the sentence ends right after: its own final full stop dropped, so "9 p.m." at
    the end of a sentence is not followed by a second one ("… to 9 p.m.", not "… to 9 p.m..")."""
    text = str(value)
    return text[:-1] if text.endswith(".") and not text.endswith("..") else text


@register.filter
def coordinates(latitude: float | Decimal | None, longitude: float | Decimal | None) -> str:
    """A latitude and longitude as one unambiguous pair in every language: decimal points and
    a comma and a space between ("35.20731, -92.33456"), never the locale's decimal comma."""
    if latitude is None or longitude is None:
        return ""
    return f"{float(latitude):.5f}, {float(longitude):.5f}"


@register.filter
def distance(metres: float | int | None, units: str | None = None) -> str:
    """A distance in meters written in the department's units: `{{ d|distance:distance_units }}`
    ("350 ft", "0.4 mi"; "350 m", "1.2 km" where the department chose metric)."""
    from tenants.units import IMPERIAL, format_distance

    return format_distance(metres, units or IMPERIAL)
