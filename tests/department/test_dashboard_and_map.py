"""The dashboard (counts, growth towards the goal, gaps in coverage), the clustered map's data,
and the audit trail's search and export."""

from __future__ import annotations

import csv
import io

import pytest
from django_tenants.utils import schema_context

from portal.department.selectors import coverage_gaps
from portal.registry.models import AuditEntry
from tenants.models import Program

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(make_resident, site_data):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data(cameras=2))
    alice.client.post(
        "/register/", site_data(address="2 Far St", latitude="35.45", longitude="-80.6")
    )
    return alice


def test_the_dashboard_counts_against_the_goal(registry, make_staff):
    analyst = make_staff("concord", "analyst")
    page = analyst.client.get("/department/").content.decode()
    assert "2 / 500 (0%)" in page
    assert '<meter min="0" max="100" value="0">' in page
    assert "Alice" not in page


def test_coverage_gaps_are_the_empty_cells_of_the_service_area(registry):
    program = Program.objects.get(department__schema_name="concord")
    with schema_context("concord"):
        gaps = coverage_gaps(program)
    area_cells = 3.14159 * 16**2
    assert area_cells * 0.9 < len(gaps) + 2 < area_cells * 1.1
    assert not any(s <= 35.408 <= n and w <= -80.581 <= e for s, w, n, e in gaps)


def test_the_map_data_clusters_at_low_zoom_and_shows_sites_up_close(registry, make_staff):
    investigator = make_staff("concord", "investigator")
    box = {"bbox": "35.3,-80.7,35.5,-80.5"}
    far = investigator.client.get("/department/map/data.json", box | {"zoom": "10"}).json()
    assert sum(cluster["count"] for cluster in far["clusters"]) == 2
    close = investigator.client.get("/department/map/data.json", box | {"zoom": "17"}).json()
    assert len(close["sites"]) == 2
    assert sorted(close["sites"][0]["directions"]) in ([0, 90], [0])
    assert "contact_name" not in str(close)


def test_the_map_filters(registry, make_staff):
    admin = make_staff("concord", "administrator")
    box = {"bbox": "35.3,-80.7,35.5,-80.5", "zoom": "17"}
    assert admin.client.get("/department/map/data.json", box | {"kind": "business"}).json() == {
        "sites": []
    }
    assert (
        len(admin.client.get("/department/map/data.json", box | {"sees": "street"}).json()["sites"])
        == 2
    )
    assert admin.client.get("/department/map/data.json", box | {"status": "paused"}).json() == {
        "sites": []
    }


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"bbox": "a,b,c,d", "zoom": "3"},
        {"bbox": "95,0,96,1", "zoom": "3"},
        {"bbox": "1,1,2,2", "zoom": "99"},
    ],
)
def test_bad_map_queries_get_a_clear_error(make_staff, query):
    analyst = make_staff("concord", "analyst")
    response = analyst.client.get("/department/map/data.json", query)
    assert response.status_code == 400
    assert response.json()["error"]


def test_the_audit_trail_is_searched_and_exported(make_staff):
    admin = make_staff("concord", "administrator")
    with schema_context("concord"):
        AuditEntry.objects.create(
            actor_email="a@x.org", actor_role="investigator", action="reveal", reason="case 1"
        )
        AuditEntry.objects.create(
            actor_email="b@x.org", actor_role="operator", action="notify", reason="case 2"
        )
    page = admin.client.get("/department/audit/", {"action": "reveal"}).content.decode()
    assert "a@x.org" in page and "b@x.org" not in page
    page = admin.client.get("/department/audit/", {"actor": "b@x"}).content.decode()
    assert "b@x.org" in page and "a@x.org" not in page
    body = b"".join(admin.client.get("/department/audit.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    # The export records itself first, so it is in the file too.
    assert [row["actor"] for row in rows] == [
        "a@x.org",
        "b@x.org",
        "administrator@concord.example.org",
    ]
    assert rows[-1]["reason"] == "Audit trail export (CSV)"
