"""The import checks rows with the resident forms' own fields, taken once, without binding a
form to each row: whatever a row holds, it reaches the verdict a bound SiteForm and CameraForm
reach, with the same messages and the same cleaned values, so the two cannot drift apart."""

from __future__ import annotations

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.registry.forms import (
    CAMERA_FIELD_CLEANERS,
    SITE_FIELD_CLEANERS,
    CameraForm,
    SiteForm,
    phone_normalise,
)
from portal.registry.registry_io import RowChecker
from tenants.models import Program

# Concord's service area (tests/conftest.py), unsaved: the checks read no database.
CONCORD = {"center_latitude": 35.4088, "center_longitude": -80.5795, "service_radius_m": 15_000}


def program() -> Program:
    return Program(**CONCORD, terms_version=1)


def form_verdict(form) -> tuple[dict, dict]:
    if form.is_valid():
        fields = form.site_fields() if isinstance(form, SiteForm) else form.camera_fields()
        return fields, {}
    return {}, {name: list(messages) for name, messages in form.errors.items()}


# Values near every limit: lengths, ranges, choices, numbers that are not, phones of all shapes.
texts = st.sampled_from(["", " ", "12 Union St S", "x" * 80, "x" * 81, "x" * 100, "x" * 101])
numbers = st.sampled_from(
    [
        "",
        "0",
        "-1",
        "359",
        "360",
        "365",
        "366",
        "1",
        "7",
        "35.41",
        "-80.58",
        "91",
        "-181",
        "nan",
        "north",
        "1e3",
        "35.41000000001",
        "36.5",
    ]
)
phones = st.sampled_from(
    [
        "",
        "704-555-0142",
        "(704) 555-0142",
        "+1 704 555 0142",
        "1-704-555-0142",
        "704.555.0142",
        "555-0142",
        "123-456-7890",
        "704-155-0142",
        "+44 20 7946 0958",
        "call me",
        "704555014",
        "(999) 555-0142",
        "+1 (201) 200-0000",
        "201 200 0000 x12",
    ]
)
emails = st.sampled_from(["", "pat@example.org", "not-an-email", "p" * 250 + "@example.org"])
site_rows = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["", "home", "business", "other", "castle"]),
        "address": texts,
        "latitude": numbers,
        "longitude": numbers,
        "participation": st.sampled_from(["", "registered", "integrated", "maybe"]),
        "contact_name": texts,
        "contact_phone": phones,
        "contact_email": emails,
        "contact_method": st.sampled_from(["", "phone", "text", "email", "fax"]),
    }
)
camera_rows = st.fixed_dictionaries(
    {
        "label": texts,
        "direction": numbers,
        "sees": st.lists(st.sampled_from(["street", "alley", "sky", ""]), max_size=3),
        "mount": st.sampled_from(["", "wall", "pole", "roof"]),
        "recording": st.sampled_from(["", "motion", "continuous", "never"]),
        "retention_days": numbers,
        "night_vision": st.booleans(),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(row=site_rows)
def test_a_site_row_gets_the_site_forms_verdict(row):
    form = SiteForm(data=row, program=program(), ask_terms=False)
    assert RowChecker(program()).site_check(row) == form_verdict(form)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(row=camera_rows)
def test_a_camera_row_gets_the_camera_forms_verdict(row):
    assert RowChecker(program()).camera_check(row) == form_verdict(CameraForm(data=row))


@pytest.mark.parametrize(
    ("form_class", "cleaners"),
    [(SiteForm, SITE_FIELD_CLEANERS), (CameraForm, CAMERA_FIELD_CLEANERS)],
)
def test_every_field_cleaner_of_the_forms_is_one_the_import_runs(form_class, cleaners):
    methods = {name.removeprefix("clean_") for name in dir(form_class) if name.startswith("clean_")}
    assert methods == set(cleaners)


def parsed(value: str) -> str | None:
    """What phonenumbers itself makes of a number: its E.164 form if valid."""
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.sampled_from(["", "1", "+1", "+1 ", "1-", "1 "]),
    area=st.integers(200, 999),
    exchange=st.integers(200, 999),
    line=st.integers(0, 9999),
    style=st.sampled_from(
        ["{a}-{e}-{l}", "({a}) {e}-{l}", "{a}.{e}.{l}", "{a}{e}{l}", "({a}){e} {l}"]
    ),
)
def test_a_plainly_written_number_is_read_as_phonenumbers_reads_it(
    prefix, area, exchange, line, style
):
    value = prefix + style.format(a=area, e=exchange, l=f"{line:04d}")
    try:
        normalised = phone_normalise.__wrapped__(value)
    except ValidationError:
        normalised = None
    assert normalised == parsed(value)
