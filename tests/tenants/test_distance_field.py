"""The distance field every form reads a distance with: typed in the department's unit, stored in
whole meters, and bad input refused with a message in the reader's language."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.utils import translation

from tenants.units import DistanceField, format_area, typed_value


class RadiusForm(forms.Form):
    radius_m = DistanceField(label="Search radius", min_metres=100, max_metres=5000)

    def __init__(self, *args: Any, units: str = "imperial", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["radius_m"]
        assert isinstance(field, DistanceField)
        field.use_units(units)


def cleaned(value: str, units: str = "imperial") -> int:
    form = RadiusForm({"radius_m": value}, units=units)
    assert form.is_valid(), form.errors
    return form.cleaned_data["radius_m"]


def refused(value: str, units: str = "imperial", language: str = "en") -> str:
    with translation.override(language):
        form = RadiusForm({"radius_m": value}, units=units)
        assert not form.is_valid()
        return " ".join(form.errors["radius_m"])


def test_feet_typed_are_stored_as_whole_meters() -> None:
    assert cleaned("1000") == 305  # 304.8 m
    assert cleaned("1,500") == 457  # a thousands comma
    assert cleaned("0.5 mi") == 805  # a unit written after the number is honored


def test_meters_typed_are_stored_as_they_are_for_a_metric_department() -> None:
    assert cleaned("1000", "metric") == 1000
    assert cleaned("1,5 km", "metric") == 1500  # a decimal comma


@pytest.mark.parametrize(
    ("typed", "english", "spanish"),
    [
        ("-5", "A distance cannot be negative.", "Una distancia no puede ser negativa."),
        (
            "abc",
            "Type a distance in feet, a number such as 500.",
            "Escriba una distancia en pies, un número como 500.",
        ),
        ("0", "A distance must be more than zero.", "Una distancia debe ser mayor que cero."),
        ("20000", "Type at most 16404 ft.", "Escriba como máximo 16404 ft."),
        ("200", "Type at least 329 ft.", "Escriba al menos 329 ft."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_in_english_and_spanish(
    typed: str, english: str, spanish: str
) -> None:
    assert refused(typed) == english
    assert refused(typed, language="es") == spanish


def test_the_largest_value_shown_is_itself_accepted() -> None:
    assert cleaned("16404") == 5000
    assert cleaned("16405") == 5000  # 5000.2 m: whole meters, as stored
    assert refused("16406") == "Type at most 16404 ft."


def test_the_label_names_the_unit_in_the_readers_language() -> None:
    with translation.override("es"):
        assert str(RadiusForm(units="metric").fields["radius_m"].label) == "Search radius (metros)"
    with translation.override("en"):
        assert str(RadiusForm().fields["radius_m"].label) == "Search radius (feet)"


def test_an_unchanged_form_saves_an_unchanged_distance() -> None:
    """Meters shown in feet or miles come back as the same meters, however they round."""
    for metres in (100, 457, 500, 5000, 12_000, 16_000, 22_000):
        for unit in ("ft", "mi", "m", "km"):
            form = RadiusForm({"radius_m": f"{typed_value(metres, unit)} {unit}"})
            assert form.is_valid() or metres > 5000 or metres < 100
            if form.is_valid():
                assert form.cleaned_data["radius_m"] == metres
    assert typed_value(16_000, "mi") == "9.942"
    form = RadiusForm({"radius_m": "1640"}, initial={"radius_m": 500})
    assert not form.has_changed()


def test_an_area_is_written_in_square_miles_or_kilometers_with_its_plural() -> None:
    with translation.override("en"):
        assert format_area(2_589_988, "imperial") == "1 square mile"
        assert format_area(5_000_000, "imperial") == "1.9 square miles"
        assert format_area(1_000_000, "metric") == "1 square kilometer"
        assert format_area(2_000_000, "metric") == "2 square kilometers"
    with translation.override("es"):
        assert format_area(2_000_000, "metric") == "2 kilómetros cuadrados"
