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


@register.filter
def square_kilometers(count: int | float, units: str | None = None) -> str:
    """A number of square kilometers as an area in the department's units:
    `{{ cells|square_kilometers:distance_units }}` ("3.9 square miles"; "10 square kilometers")."""
    from tenants.units import IMPERIAL, format_area

    return format_area(float(count) * 1_000_000, units or IMPERIAL)


@register.filter
def department_name(department: object) -> str:
    """The department's name in the page's (or email's) language: `{{ department|department_name }}`
    ("Departamento de Policía de Concord" for Spanish where the department gave one)."""
    from django.utils.translation import get_language

    name_in = getattr(department, "name_in", None)
    return name_in(get_language()) if name_in is not None else str(department or "")


@register.filter
def program_name(branding: object) -> str:
    """The program's name in the page's (or email's) language: `{{ branding|program_name }}`."""
    from django.utils.translation import get_language

    display_name_in = getattr(branding, "display_name_in", None)
    return display_name_in(get_language()) if display_name_in is not None else str(branding or "")
