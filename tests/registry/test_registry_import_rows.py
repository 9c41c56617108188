"""Import rows are checked by the resident portal's own forms, and malformed files are refused
with a specific message: never a 500, never a half-written registry."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.registry.test_registry_io import ROW, counts, csv_file, page_of, upload

pytestmark = pytest.mark.django_db


def geojson(features: object, name: str = "registry.geojson") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, json.dumps({"type": "FeatureCollection", "features": features}).encode()
    )


def feature(properties: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-80.5802, 35.4101]},
        "properties": properties,
    }


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            ROW | {"contact_name": "Pat\x00Lee"},
            "Row 2: contact_name contains a control character (U+0000); remove it.",
        ),
        (
            ROW | {"address": "12 Church St\x07"},
            "Row 2: address contains a control character (U+0007); remove it.",
        ),
        (
            ROW | {"camera_label": "Door\x1b[31m"},
            "Row 2: camera_label contains a control character (U+001B); remove it.",
        ),
        (
            ROW | {"contact_name": "P" * 101},
            "Row 2: contact_name: Ensure this value has at most 100 characters (it has 101).",
        ),
        (
            ROW | {"contact_email": "p" * 250 + "@example.org"},
            "Row 2: contact_email: Ensure this value has at most 254 characters (it has 262).",
        ),
        (
            # Each owner gets an account named by the email, and a username has 150 at most.
            ROW | {"contact_email": "p" * 139 + "@example.org"},
            "Row 2: contact_email: Use an email address of at most 150 characters.",
        ),
        (
            ROW | {"address": "1" * 201},
            "Row 2: address: Ensure this value has at most 200 characters (it has 201).",
        ),
        (
            ROW | {"camera_label": "L" * 81},
            "Row 2: camera_label: Ensure this value has at most 80 characters (it has 81).",
        ),
        (
            ROW | {"camera_retention_days": "366"},
            "Row 2: camera_retention_days: Ensure this value is less than or equal to 365.",
        ),
        (ROW | {"latitude": "nan"}, "Row 2: latitude: Enter a number."),
        (
            ROW | {"participation": "integrated"},
            "Row 2: participation: integration is bought by the owner through the portal; "
            "import the site as registered.",
        ),
        (
            ROW | {"participation": "sometimes"},
            "Row 2: participation: “sometimes” is not allowed; write registered or leave it empty.",
        ),
    ],
)
def test_a_row_the_portal_would_refuse_is_refused_with_its_column(
    admin, row, message, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin, csv_file([row]))
    assert response.status_code == 200
    page = page_of(response)
    assert "1 problem: nothing was imported." in page
    assert message in page
    assert counts() == (0, 0)


def test_a_row_with_more_cells_than_columns_is_refused(admin):
    content = ",".join(ROW) + "\n" + ",".join(ROW.values()) + ",surplus\n"
    page = page_of(upload(admin, SimpleUploadedFile("registry.csv", content.encode())))
    assert "Row 2: The row has more cells than the header has columns." in page


def test_a_header_longer_than_the_csv_cell_limit_is_refused(admin):
    content = ("address," + "x" * 131_073 + "\n1 Main St,y\n").encode()
    page = page_of(upload(admin, SimpleUploadedFile("registry.csv", content)))
    assert "A cell is longer than 131,072 characters." in page


def test_a_file_that_is_not_utf8_is_refused(admin):
    page = page_of(upload(admin, SimpleUploadedFile("registry.csv", "café".encode("latin-1"))))
    assert "The file is not UTF-8 text." in page


@pytest.mark.parametrize("properties", [["address", "x"], "address=x", 42, True])
def test_geojson_properties_that_are_not_an_object_are_refused(admin, properties):
    features = [feature({k: v for k, v in ROW.items()}), feature(properties)]
    page = page_of(upload(admin, geojson(features)))
    assert "Feature 2: its properties must be an object of named values." in page
    assert counts() == (0, 0)


def test_geojson_properties_that_are_null_are_an_empty_row(admin):
    page = page_of(upload(admin, geojson([feature(None)])))
    assert "Row 2: address is empty." in page
    assert "Row 2: contact_email is empty." in page


def test_a_geojson_property_that_is_an_object_is_refused(admin):
    page = page_of(upload(admin, geojson([feature(ROW | {"address": {"street": "x"}})])))
    assert "Feature 1: the property address must be text or a number." in page


@pytest.mark.parametrize(
    "geometry", [None, {"type": "Point"}, {"coordinates": ["x", "y"]}, {"coordinates": [1]}]
)
def test_a_geojson_feature_without_a_point_is_refused(admin, geometry):
    broken = feature(ROW) | {"geometry": geometry}
    page = page_of(upload(admin, geojson([broken])))
    assert "Feature 1 is not a point: its geometry has no coordinates." in page


def test_arrays_nested_100000_deep_are_refused(admin):
    content = b'{"type": "FeatureCollection", "features": ' + b"[" * 100_000 + b"]" * 100_000
    page = page_of(upload(admin, SimpleUploadedFile("deep.geojson", content + b"}")))
    assert "The GeoJSON nests arrays or objects more than 64 levels deep." in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[1, 2", "The file is not valid JSON"),
        (b"[]", "The file is not a GeoJSON FeatureCollection: it has no features list."),
        (b'{"features": {"a": 1}}', "it has no features list."),
    ],
)
def test_json_that_is_no_feature_collection_is_refused(admin, content, message):
    page = page_of(upload(admin, SimpleUploadedFile("registry.geojson", content)))
    assert message in page


def test_a_file_name_with_control_characters_is_kept_without_them(admin):
    """Django's upload parser already drops them; a command or an API calling the service
    directly must not be able to store them either."""
    from django_tenants.utils import schema_context

    from portal.registry.audit import Actor
    from portal.registry.services import import_start

    with schema_context("concord"):
        job = import_start(
            actor=Actor.system("test"), filename="reg\x00is\x1btry.csv", content=b"address\n"
        )
        job.refresh_from_db()
    assert job.filename == "registry.csv"


def test_brackets_inside_geojson_text_do_not_count_as_nesting(admin):
    properties = ROW | {"address": '12 "Church" St \\ ' + "[" * 100, "camera_label": "{" * 70}
    page = page_of(upload(admin, geojson([feature(properties)])))
    assert "levels deep" not in page
    assert "Ready to import: 1 site (" in page
