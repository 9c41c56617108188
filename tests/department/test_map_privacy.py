"""The registry map never gives an exact home to staff who may not see personal data: analysts
get counts on a ~100 m grid at every zoom, clusters are snapped to the same grid for everyone,
exact positions (staff with personal-data access, up close) are one audit entry per request,
and paused and lapsed sites are shown to administrators only."""

from __future__ import annotations

import math

import pytest
from django_tenants.utils import schema_context

from portal.department.selectors import Grid
from portal.registry.models import AuditEntry, Participant, Site
from portal.registry.selectors import METRES_PER_DEGREE
from tenants.models import Program

pytestmark = pytest.mark.django_db

BOX = {"bbox": "35.3,-80.7,35.5,-80.5"}
HOME = (35.40812, -80.58127)
SHOP = (35.45031, -80.60044)


@pytest.fixture
def registry(make_resident, site_data):
    """Two searchable sites (one with two cameras), one paused, one whose owner lapsed."""
    alice = make_resident("concord")
    alice.client.post(
        "/register/", site_data(cameras=2, latitude=str(HOME[0]), longitude=str(HOME[1]))
    )
    alice.client.post(
        "/register/",
        site_data(address="2 Far St", latitude=str(SHOP[0]), longitude=str(SHOP[1])),
    )
    bob = make_resident("concord", email="bob@example.org")
    bob.client.post("/register/", site_data(address="9 Paused Rd", latitude="35.4200"))
    carol = make_resident("concord", email="carol@example.org")
    carol.client.post("/register/", site_data(address="7 Lapsed Ln", latitude="35.4300"))
    with schema_context("concord"):
        Site.objects.filter(address="9 Paused Rd").update(paused=True)
        Participant.objects.filter(user__email="carol@example.org").update(
            status=Participant.Status.LAPSED
        )


def grid() -> Grid:
    return Grid.of(Program.objects.get(department__schema_name="concord"))


def on_grid(latitude: float, longitude: float) -> bool:
    """Whether a position is a grid cell's centre, so it says nothing finer than its cell."""
    cells = grid()
    row, column = latitude / cells.lat_step - 0.5, longitude / cells.lng_step - 0.5
    return abs(row - round(row)) < 1e-4 and abs(column - round(column)) < 1e-4


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    north = (a[0] - b[0]) * METRES_PER_DEGREE
    east = (a[1] - b[1]) * METRES_PER_DEGREE * math.cos(math.radians(a[0]))
    return math.hypot(north, east)


def map_data(staff, **query):
    response = staff.client.get("/department/map/data.json", BOX | query)
    assert response.status_code == 200
    return response.json()


def audit_entries() -> list[AuditEntry]:
    with schema_context("concord"):
        return list(AuditEntry.objects.order_by("pk"))


def test_the_grid_is_about_100_metres_square():
    cells = grid()
    corner = (35.4, -80.58)
    assert 99 < metres(corner, (corner[0] + cells.lat_step, corner[1])) < 101
    assert 99 < metres(corner, (corner[0], corner[1] + cells.lng_step)) < 101


@pytest.mark.parametrize("zoom", ["16", "17", "19", "22"])
def test_analysts_get_grid_cells_up_close_never_a_home(registry, make_staff, zoom):
    analyst = make_staff("concord", "analyst")
    data = map_data(analyst, zoom=zoom)
    assert set(data) == {"clusters"}
    assert sorted(cell["count"] for cell in data["clusters"]) == [1, 1]
    for cell in data["clusters"]:
        assert set(cell) == {"count", "integrated", "latitude", "longitude"}
        assert on_grid(cell["latitude"], cell["longitude"])
    positions = [(cell["latitude"], cell["longitude"]) for cell in data["clusters"]]
    for home in (HOME, SHOP):
        nearest = min(metres(home, position) for position in positions)
        # In the home's ~100 m cell (at most half its diagonal away), but not on the home.
        assert 1 < nearest < 72
    assert str(HOME[0]) not in str(data) and str(HOME[1]) not in str(data)
    assert "directions" not in str(data)


@pytest.mark.parametrize("role", ["analyst", "investigator", "administrator"])
@pytest.mark.parametrize("zoom", ["10", "13", "15"])
def test_clusters_are_snapped_to_the_grid_for_everyone(registry, make_staff, role, zoom):
    staff = make_staff("concord", role)
    clusters = map_data(staff, zoom=zoom)["clusters"]
    assert sum(cluster["count"] for cluster in clusters) == 2
    for cluster in clusters:
        assert on_grid(cluster["latitude"], cluster["longitude"])
        # A cluster of one site would otherwise sit exactly on the home.
        assert (cluster["latitude"], cluster["longitude"]) not in (HOME, SHOP)


def test_the_grid_does_not_move_with_the_box_asked_for(registry, make_staff):
    analyst = make_staff("concord", "analyst")
    first = map_data(analyst, zoom="17")["clusters"]
    second = analyst.client.get(
        "/department/map/data.json", {"bbox": "35.40,-80.59,35.42,-80.57", "zoom": "18"}
    ).json()["clusters"]
    assert second == [cell for cell in first if 35.40 <= cell["latitude"] <= 35.42]


def test_staff_with_personal_data_access_see_exact_sites_and_each_request_is_recorded(
    registry, make_staff
):
    investigator = make_staff("concord", "investigator")
    sites = map_data(investigator, zoom="17")["sites"]
    assert sorted((site["latitude"], site["longitude"]) for site in sites) == [HOME, SHOP]
    (entry,) = audit_entries()
    assert entry.action == AuditEntry.Action.MAP_VIEW
    assert entry.actor_email == investigator.email
    assert entry.reason == "Map: 2 exact site locations in 35.30000,-80.70000,35.50000,-80.50000"
    assert entry.site_id is None
    map_data(investigator, zoom="18")
    assert len(audit_entries()) == 2


def test_map_answers_without_exact_positions_record_nothing(registry, make_staff):
    investigator = make_staff("concord", "investigator")
    analyst = make_staff("concord", "analyst")
    map_data(investigator, zoom="12")  # clusters
    map_data(analyst, zoom="17")  # grid cells
    empty = investigator.client.get(
        "/department/map/data.json", {"bbox": "35.0,-81.0,35.01,-80.99", "zoom": "17"}
    ).json()
    assert empty == {"sites": []}
    assert audit_entries() == []


@pytest.mark.parametrize("status", ["paused", "lapsed", "all"])
@pytest.mark.parametrize("role", ["investigator", "operator", "analyst"])
def test_only_administrators_see_paused_and_lapsed_sites(registry, make_staff, role, status):
    staff = make_staff("concord", role)
    asked = map_data(staff, zoom="12", status=status)["clusters"]
    searchable = map_data(staff, zoom="12")["clusters"]
    # Anyone else asking for them gets the searchable sites, as if they had not asked.
    assert asked == searchable
    assert sum(cluster["count"] for cluster in asked) == 2
    page = staff.client.get("/department/map/", {"status": status}).content.decode()
    assert 'name="status"' not in page


@pytest.mark.parametrize(("status", "addresses"), [("paused", 1), ("lapsed", 1), ("all", 4)])
def test_administrators_filter_by_status(registry, make_staff, status, addresses):
    admin = make_staff("concord", "administrator")
    sites = map_data(admin, zoom="12", status=status)["clusters"]
    assert sum(cluster["count"] for cluster in sites) == addresses
    assert 'name="status"' in admin.client.get("/department/map/").content.decode()


def test_the_analyst_map_page_says_positions_are_rounded(make_staff):
    analyst = make_staff("concord", "analyst")
    page = analyst.client.get("/department/map/").content.decode()
    assert "placed on a grid of about 330 ft" in page


def test_the_exact_positions_service_refuses_staff_without_personal_data_access(
    registry, make_staff
):
    from django.core.exceptions import PermissionDenied

    from portal.department.services import map_sites_located
    from portal.registry.audit import Actor
    from portal.registry.models import StaffMember

    make_staff("concord", "analyst")
    with schema_context("concord"):
        analyst = StaffMember.objects.select_related("user").get(role="analyst")
        with pytest.raises(PermissionDenied):
            map_sites_located(
                actor=Actor.of_staff(analyst, None),
                sites=Site.objects.searchable(),
                box=(35.3, -80.7, 35.5, -80.5),
                limit=10,
            )
    assert audit_entries() == []
