"""Import a registry from CSV or GeoJSON (preview, row-by-row errors, all or nothing) and export
it as CSV and as GeoJSON with OpenStreetMap's surveillance tags (audited)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from portal.registry.forms import DIRECTION_PROBLEM
from portal.registry.models import AuditEntry, Camera, Site
from portal.registry.registry_io import COLUMNS

pytestmark = pytest.mark.django_db

ROW = {
    "site_ref": "A1",
    "address": "12 Church St N, Concord, NC",
    "latitude": "35.4101",
    "longitude": "-80.5802",
    "site_type": "business",
    "participation": "registered",
    "contact_name": "Pat Lee",
    "contact_phone": "704-555-0170",
    "contact_email": "pat@example.org",
    "camera_label": "Door",
    "camera_direction": "270",
    "camera_sees": "entrance;sidewalk",
    "camera_mount": "wall",
    "camera_recording": "continuous",
    "camera_retention_days": "30",
    "camera_night_vision": "yes",
}


def csv_file(rows, name="registry.csv", columns=COLUMNS) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile(name, buffer.getvalue().encode(), content_type="text/csv")


def counts() -> tuple[int, int]:
    with schema_context("concord"):
        return Site.objects.count(), Camera.objects.count()


def upload(staff, upload: SimpleUploadedFile):
    """Upload a file and follow to its import's page (the check runs in-process here)."""
    return staff.client.post("/department/import/", {"file": upload}, follow=True)


def page_of(response) -> str:
    return response.content.decode().replace("&#x27;", "'")


def test_a_csv_is_previewed_then_imported(admin):
    rows = [
        ROW,
        ROW | {"camera_label": "Lot", "camera_sees": "parking"},
        ROW | {"site_ref": "B2", "address": "40 Union St S", "contact_email": "kim@example.org"},
    ]
    response = upload(admin, csv_file(rows))
    page = page_of(response)
    assert response.status_code == 200
    assert "3 rows checked. Ready to import: 2 sites (3 cameras)." in page
    assert "12 Church St N, Concord, NC" in page
    assert counts() == (0, 0)
    job_path = response.redirect_chain[-1][0]
    response = admin.client.post(f"{job_path}commit/", follow=True)
    assert "Imported: 2 sites (3 cameras)." in page_of(response)
    assert counts() == (2, 3)
    with schema_context("concord"):
        site = Site.objects.get(address="12 Church St N, Concord, NC")
        assert site.contact_phone == "+17045550170"
        assert sorted(site.cameras.values_list("label", flat=True)) == ["Door", "Lot"]
        assert not site.participant.user.has_usable_password()
    # The same import cannot be written twice.
    response = admin.client.post(f"{job_path}commit/", follow=True)
    assert "This import cannot be confirmed: it is no longer waiting." in page_of(response)
    assert counts() == (2, 3)


def test_a_geojson_file_is_imported(admin):
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [-80.5802, 35.4101]},
        "properties": {k: v for k, v in ROW.items() if k not in ("latitude", "longitude")},
    }
    geojson = SimpleUploadedFile(
        "registry.geojson",
        json.dumps({"type": "FeatureCollection", "features": [feature]}).encode(),
    )
    assert "Ready to import: 1 site (" in page_of(upload(admin, geojson))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([ROW | {"latitude": "north"}], "Row 2: latitude: Enter a number."),
        (
            [ROW | {"latitude": "34.7465", "longitude": "-92.2896"}],
            "Row 2: latitude: This location is outside the area this department serves",
        ),
        (
            [ROW | {"camera_direction": "400"}],
            "Row 2: camera_direction: " + str(DIRECTION_PROBLEM),
        ),
        ([ROW | {"contact_phone": "123"}], "Row 2: contact_phone: 123 cannot be a phone number"),
        ([ROW | {"contact_email": "nope"}], "Row 2: contact_email: Enter a valid email address."),
        (
            [ROW | {"site_type": "castle"}],
            "Row 2: site_type: Select a valid choice. castle is not one of the available choices.",
        ),
        ([ROW, ROW], "Row 3: Duplicate row: this camera appears twice for the site."),
        ([ROW | {"address": ""}], "Row 2: address is empty."),
    ],
)
def test_a_bad_row_is_reported_and_nothing_is_imported(admin, rows, message):
    good = ROW | {"site_ref": "OK", "address": "1 Good St", "camera_label": "Fine"}
    page = page_of(upload(admin, csv_file([good, *rows])))
    assert "nothing was imported" in page
    assert message.replace("Row 2", "Row 3").replace("Row 3: Dup", "Row 4: Dup") in page
    assert counts() == (0, 0)


def test_wrong_columns_are_refused(admin):
    page = page_of(upload(admin, csv_file([{"street": "x"}], columns=["street", "lat", "lon"])))
    assert (
        "Missing columns: address, camera_label, contact_email, contact_name, latitude, longitude."
        in page
    )


def test_a_site_already_registered_is_refused(admin, make_resident, site_data):
    make_resident("concord").client.post("/register/", site_data())
    row = ROW | {
        "address": "77 Union St S, Concord, NC 28025",
        "latitude": "35.408",
        "longitude": "-80.581",
    }
    assert "This site is already in the registry." in page_of(upload(admin, csv_file([row])))


def test_a_50_mb_file_is_refused(admin):
    big = SimpleUploadedFile("big.csv", b"address\n" + b"x" * (50 * 1024 * 1024))
    response = admin.client.post("/department/import/", {"file": big})
    assert response.status_code == 400
    assert "The file is larger than 20 MB; split it." in response.content.decode()


def test_other_file_types_are_refused(admin):
    xlsx = SimpleUploadedFile("registry.xlsx", b"PK\x03\x04")
    response = admin.client.post("/department/import/", {"file": xlsx})
    assert response.status_code == 400
    assert "Only .csv and .geojson files can be imported." in response.content.decode()


def test_the_csv_export_has_no_contact_details_and_is_audited(admin, make_resident, site_data):
    make_resident("concord").client.post("/register/", site_data(cameras=2))
    response = admin.client.get("/department/registry.csv")
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 2
    assert rows[0]["address"] == "77 Union St S, Concord, NC 28025"
    assert rows[0]["contact_name"] == rows[0]["contact_phone"] == ""
    assert "Alice" not in body and "555" not in body
    with schema_context("concord"):
        entry = AuditEntry.objects.get()
        assert (entry.action, entry.reason) == ("export", "Registry export (CSV)")


def test_the_geojson_export_uses_openstreetmap_tags(admin, make_resident, site_data):
    make_resident("concord").client.post("/register/", site_data())
    data = json.loads(admin.client.get("/department/registry.geojson").content)
    properties = data["features"][0]["properties"]
    assert properties["man_made"] == "surveillance"
    assert properties["surveillance:type"] == "camera"
    assert properties["camera:direction"] == "0"
    assert properties["camera:mount"] == "wall"
    assert properties["surveillance:zone"] == "town;traffic"
    assert data["features"][0]["geometry"]["coordinates"] == [-80.581, 35.408]
    with schema_context("concord"):
        assert AuditEntry.objects.get().reason == "Registry export (GeoJSON)"


def test_an_export_can_be_imported_again(admin, make_resident, site_data, make_staff):
    make_resident("concord").client.post("/register/", site_data(cameras=2))
    body = b"".join(admin.client.get("/department/registry.csv").streaming_content).decode()
    rows = [
        row
        | {
            "contact_name": "Owner",
            "contact_email": "owner@example.org",
            "address": row["address"] + " (copy)",
        }
        for row in csv.DictReader(io.StringIO(body))
    ]
    assert "2 rows checked. Ready to import: 1 site (" in page_of(upload(admin, csv_file(rows)))
