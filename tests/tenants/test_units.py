"""Distances in the department's units: the one conversion every page and form uses."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils.translation import override

from tenants.units import distance_formatter, format_distance, from_metres, to_metres


@pytest.mark.parametrize(
    ("metres", "units", "written"),
    [
        (30, "imperial", "98 ft"),
        (100, "imperial", "330 ft"),
        (160, "imperial", "520 ft"),
        (1000, "imperial", "0.6 mi"),
        (5000, "imperial", "3.1 mi"),
        (20_000, "imperial", "12 mi"),
        (350, "metric", "350 m"),
        (1234, "metric", "1.2 km"),
        (15_000, "metric", "15 km"),
        (None, "imperial", ""),
    ],
)
def test_format_distance(metres: float | None, units: str, written: str) -> None:
    assert format_distance(metres, units) == written


def test_typed_feet_and_miles_round_trip_through_metres() -> None:
    assert to_metres(1000, "ft") == pytest.approx(304.8)
    assert to_metres(1, "mi") == pytest.approx(1609.344)
    assert from_metres(to_metres(2500, "ft"), "ft") == pytest.approx(2500)


def test_the_filter_writes_the_units_it_is_given() -> None:
    template = Template("{% load words %}{{ d|distance:units }}|{{ d|distance }}")
    assert template.render(Context({"d": 1609.344, "units": "metric"})) == "1.6 km|1 mi"


def test_distances_are_written_in_the_readers_language() -> None:
    """A list's formatter (distance_formatter) writes as format_distance does, in the language
    active when it was made: Spanish writes a decimal comma."""
    with override("es"):
        assert format_distance(1_234, "metric") == "1,2 km"
        assert distance_formatter("imperial")(2_000) == "1,2 mi"
    assert distance_formatter("metric")(1_234) == "1.2 km"
    for metres in (0, 12.4, 99, 160.9, 999.6, 1_000, 15_000, 123_456):
        for units in ("imperial", "metric"):
            assert distance_formatter(units)(metres) == format_distance(metres, units)
