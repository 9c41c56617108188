"""The registry map's counts kept per grid cell (registry migration 0016) stay exact: after
registrations, edits, pauses, opt-outs, a lapse, a purge and an import, the map's clusters read
from them are the clusters the grouping of every site gives, and the kept cells are the cells
a fresh count of the searchable sites gives, in each department's schema alone."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department import selectors
from portal.department.selectors import MapFilters
from portal.registry import services
from portal.registry.audit import Actor
from portal.registry.models import Participant, Site
from tenants.models import Program
from tests.registry.test_registry_io import ROW, csv_file, upload

pytestmark = pytest.mark.django_db

# The searchable sites counted afresh, in the cells' own terms.
FRESH_CELLS = """
SELECT z.zoom, floor(s.latitude / (90::float8 / power(2::float8, z.zoom)))::integer,
       floor(s.longitude / (90::float8 / power(2::float8, z.zoom)))::integer,
       s.kind, s.participation, count(*)::integer,
       sum(s.latitude::numeric), sum(s.longitude::numeric)
FROM registry_site s JOIN registry_participant p ON p.id = s.participant_id
CROSS JOIN generate_series(0, 15) AS z(zoom)
WHERE s.id = ANY(%s)
GROUP BY 1, 2, 3, 4, 5
"""

KEPT_CELLS = """
SELECT zoom, cell_row, cell_column, kind, participation, sites, latitude_sum, longitude_sum
FROM registry_sitecell WHERE sites <> 0
"""

FILTERS = [
    MapFilters(),
    MapFilters(kinds=("business",)),
    MapFilters(participation=("integrated",)),
    MapFilters(kinds=("home", "other"), participation=("registered",)),
]


def kept_cells() -> set[tuple[object, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(KEPT_CELLS)
        return {normal(row) for row in cursor.fetchall()}


def fresh_cells() -> set[tuple[object, ...]]:
    searchable = list(Site.objects.searchable().values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(FRESH_CELLS, [searchable])
        return {normal(row) for row in cursor.fetchall()}


def normal(row: tuple[object, ...]) -> tuple[object, ...]:
    """Numeric sums compared by value (1.50 and 1.5 are the same sum)."""
    return tuple(value.normalize() if isinstance(value, Decimal) else value for value in row)


def clusters(found: list[dict[str, float | int]]) -> list[list[tuple[str, float | int]]]:
    """The clusters as the map gets them, in a fixed order, their types compared too."""
    return sorted(
        sorted((key, type(value).__name__, value) for key, value in c.items()) for c in found
    )


def boxes(program: Program) -> list[tuple[float, float, float, float]]:
    """The whole service area with room around it, and boxes whose edges cut through it."""
    lat, lng = program.center_latitude, program.center_longitude
    return [
        (lat - 0.3, lng - 0.35, lat + 0.3, lng + 0.35),
        (lat - 0.05, lng - 0.07, lat + 0.04, lng + 0.03),
        (lat - 0.013, lng - 0.2, lat + 0.2, lng + 0.011),
    ]


def assert_map_exact(program: Program) -> None:
    """The kept cells are a fresh count's, and the map's clusters the grouping's, at every
    level that changes the answer, for each box and filter."""
    assert kept_cells() == fresh_cells()
    grid = selectors.Grid.of(program)
    for zoom in (6, 9, 11, 13, 15):
        for south, west, north, east in boxes(program):
            box = {"south": south, "west": west, "north": north, "east": east}
            for filters in FILTERS:
                slow = selectors.site_clusters(
                    selectors.sites_on_map(filters),
                    cell_deg=selectors.cluster_cell(zoom),
                    grid=grid,
                    **box,
                )
                fast = selectors.map_clusters(filters, zoom=zoom, grid=grid, **box)
                assert clusters(fast) == clusters(slow), (zoom, box, filters)


def register(
    program: Program, rng: random.Random, owner: str, count: int, kind: str = "home"
) -> list[Site]:
    """count sites for a new owner at random places within 12 km of the city's centre."""
    user = get_user_model().objects.create_user(username=owner, email=owner)
    participant = services.participant_create(user=user)
    sites = []
    for n in range(count):
        distance, angle = 12 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        latitude = program.center_latitude + distance * math.cos(angle) / 111.2
        longitude = program.center_longitude + distance * math.sin(angle) / (
            111.2 * math.cos(math.radians(program.center_latitude))
        )
        sites.append(
            services.site_register(
                participant=participant,
                program=program,
                site={
                    "kind": kind,
                    "address": f"{n} {owner}",
                    "latitude": latitude,
                    "longitude": longitude,
                    "contact_name": owner,
                    "contact_method": "email",
                    "contact_email": owner,
                },
                cameras=[
                    {
                        "label": "Door",
                        "direction": 90,
                        "sees": ["street"],
                        "mount": "wall",
                        "recording": "motion",
                        "retention_days": 14,
                    }
                ],
                language="en",
            )
        )
    return sites


def test_the_kept_counts_follow_every_change_to_the_registry(make_staff):
    program = Program.objects.get(department__schema_name="concord")
    rng = random.Random(14)
    with schema_context("concord"):
        assert kept_cells() == fresh_cells()
        alice = register(program, rng, "alice@example.org", 40)
        bob = register(program, rng, "bob@example.org", 30, kind="business")
        carol = register(program, rng, "carol@example.org", 25, kind="other")
        dan = register(program, rng, "dan@example.org", 20)
        assert Site.objects.searchable().count() == 115
        assert_map_exact(program)

        # Pauses, an edit that moves a site and changes its kind, integration.
        for site in alice[:7]:
            services.site_set_paused(site=site, paused=True)
        services.site_set_paused(site=alice[0], paused=False)
        services.site_update(
            site=bob[0],
            program=program,
            changes={"latitude": bob[1].latitude, "longitude": bob[1].longitude, "kind": "home"},
            cameras_changed=[],
            cameras_deleted=[],
            terms_accepted=True,
        )
        services.site_update(
            site=bob[2],
            program=program,
            changes={"contact_hours": "Evenings"},
            cameras_changed=[],
            cameras_deleted=[],
            terms_accepted=False,
        )
        for site in carol[:9]:
            services.site_integration_set(
                site=site, integrated=True, actor=Actor.system("test"), reason="test"
            )
        assert_map_exact(program)

        # An opt-out (the account closed) and a lapse, then a purge of the lapsed owner.
        services.participant_opt_out(participant=carol[0].participant, close_account=True)
        dan_owner = dan[0].participant
        long_ago = timezone.now() - timedelta(days=800)
        Participant.objects.filter(pk=dan_owner.pk).update(confirmed_at=long_ago)
        services.registrations_verify(program=program, now=timezone.now())
        dan_owner.refresh_from_db()
        assert dan_owner.status == Participant.Status.LAPSED
        assert Site.objects.searchable().count() == 115 - 6 - 25 - 20
        assert_map_exact(program)
        services.registrations_verify(program=program, now=timezone.now() + timedelta(days=400))
        assert not Site.objects.filter(participant=dan_owner).exists()
        # A year on, everyone else lapsed too.
        assert Site.objects.searchable().count() == 0
        assert_map_exact(program)

    # An import through the console: checked, then committed with COPY.
    admin = make_staff("concord", "administrator")
    rows = [
        ROW
        | {
            "site_ref": f"I{n}",
            "address": f"{n} Import Ave",
            "latitude": f"{program.center_latitude + rng.uniform(-0.08, 0.08):.5f}",
            "longitude": f"{program.center_longitude + rng.uniform(-0.08, 0.08):.5f}",
            "contact_email": f"owner{n}@example.org",
            "site_type": rng.choice(["home", "business", "other"]),
        }
        for n in range(30)
    ]
    response = upload(admin, csv_file(rows))
    job_path = response.redirect_chain[-1][0]
    response = admin.client.post(f"{job_path}commit/", follow=True)
    page = response.content.decode()
    assert "Imported: 30 sites" in page, page[page.find("<main") :]
    with schema_context("concord"):
        assert Site.objects.searchable().count() == 30
        assert_map_exact(program)

        # A registration brings a lapsed owner back, and their sites with them.
        erin = register(program, rng, "erin@example.org", 5)
        Participant.objects.filter(pk=erin[0].participant_id).update(
            status=Participant.Status.LAPSED
        )
        assert_map_exact(program)
        register_again = erin[0].participant
        services.participant_confirm(participant=register_again)
        assert_map_exact(program)


def test_the_map_answers_from_the_kept_counts(make_staff, monkeypatch):
    """The whole city's clusters come from the kept counts: nothing groups every site."""
    program = Program.objects.get(department__schema_name="concord")
    with schema_context("concord"):
        register(program, random.Random(1), "alice@example.org", 30)
    investigator = make_staff("concord", "investigator")

    def no_grouping(*args, **kwargs):
        raise AssertionError("every site grouped")

    monkeypatch.setattr(selectors, "site_clusters", no_grouping)
    monkeypatch.setattr(selectors, "cluster_counts", no_grouping)
    lat, lng = program.center_latitude, program.center_longitude
    query = {"bbox": f"{lat - 0.3},{lng - 0.35},{lat + 0.3},{lng + 0.35}", "zoom": "11"}
    found = investigator.client.get("/department/map/data.json", query).json()
    assert sum(cluster["count"] for cluster in found["clusters"]) == 30


def test_each_department_counts_its_own_sites():
    concord = Program.objects.get(department__schema_name="concord")
    carrollton = Program.objects.get(department__schema_name="carrollton")
    with schema_context("concord"):
        register(concord, random.Random(2), "alice@example.org", 12)
    with schema_context("carrollton"):
        register(carrollton, random.Random(3), "bob@example.org", 7)
    for schema, program, count in (("concord", concord, 12), ("carrollton", carrollton, 7)):
        with schema_context(schema):
            assert {cell[5] for cell in kept_cells() if cell[0] == 0} == {count}
            assert_map_exact(program)
