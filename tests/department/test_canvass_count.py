"""A large canvass is counted from the kept cells (registry_sitecell) wholly inside its circle
plus the sites along its edge, and listed from a smaller circle: the count is sites_near()'s
count and the rows are the nearest, in order, whatever the centre, the radius, the pauses and
opt-outs, in each department's schema alone."""

from __future__ import annotations

import math
import random

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department import selectors
from portal.department.models import Incident
from portal.registry.models import Participant, Site
from portal.registry.selectors import NearNumbers, sites_near
from tenants.models import Program

pytestmark = pytest.mark.django_db

CELL = selectors.cluster_cell(selectors.FINEST_ZOOM)


def seed(schema: str, owner: str, count: int, seed: int) -> tuple[float, float, list[Site]]:
    """count sites within 3 km of a point on a finest cell's corner near the city's centre,
    a tenth of them on cells' edges and corners exactly; returns the point and the sites."""
    program = Program.objects.get(department__schema_name=schema)
    latitude = math.floor(program.center_latitude / CELL) * CELL
    longitude = math.floor(program.center_longitude / CELL) * CELL
    rng = random.Random(seed)
    with schema_context(schema):
        user = get_user_model().objects.create_user(username=owner, email=owner)
        participant = Participant.objects.create(user=user)
        places = []
        for n in range(count):
            distance, angle = 3 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            lat = latitude + distance * math.cos(angle) / 111.2
            lng = longitude + distance * math.sin(angle) / (
                111.2 * math.cos(math.radians(latitude))
            )
            if n % 10 == 0:
                lat = round(lat / CELL) * CELL
            if n % 20 == 0:
                lng = round(lng / CELL) * CELL
            places.append((lat, lng))
        sites = Site.objects.bulk_create(
            Site(
                participant=participant,
                kind=rng.choice(["home", "business", "other"]),
                participation=rng.choice(["registered", "integrated"]),
                address=f"{n} Counted St",
                latitude=lat,
                longitude=lng,
                contact_name="Owner",
                contact_method="phone",
                terms_version=1,
                terms_accepted_at=timezone.now(),
            )
            for n, (lat, lng) in enumerate(places)
        )
    return latitude, longitude, sites


def circles(latitude: float, longitude: float) -> list[tuple[float, float, float]]:
    """Centres on a cell's corner, inside a cell and on an edge; radii from under a cell to
    more than the sites' spread."""
    return [
        (latitude, longitude, 1_500),
        (latitude, longitude, 2_000),
        (latitude + CELL / 3, longitude - CELL / 7, 1_234.5),
        (latitude + CELL / 3, longitude - CELL / 7, 2_750),
        (latitude - 2 * CELL, longitude + CELL / 2, 900),
        (latitude + 0.004, longitude + 0.006, 350),
        (latitude, longitude, 5_000),
    ]


def crime(staff_email: str, latitude: float, longitude: float, radius_m: int) -> Incident:
    """A crime opened now by the staff member, searching radius_m around the point."""
    return Incident.objects.create(
        kind="crime",
        case_number=f"COUNT-{radius_m}",
        latitude=latitude,
        longitude=longitude,
        starts_at=timezone.now(),
        ends_at=timezone.now(),
        radius_m=radius_m,
        opened_by=get_user_model().objects.get(email=staff_email),
    )


def assert_counts_exact(latitude: float, longitude: float) -> None:
    for lat, lng, radius_m in circles(latitude, longitude):
        exact = sites_near(latitude=lat, longitude=lng, radius_m=radius_m).count()
        counted = selectors.sites_near_count(latitude=lat, longitude=lng, radius_m=radius_m)
        assert counted == exact, (lat, lng, radius_m)


def test_the_count_from_the_cells_is_the_exact_count():
    latitude, longitude, sites = seed("concord", "many@example.org", 900, 14)
    with schema_context("concord"):
        # The cells do the counting here: whole cells of three levels inside the circle, and
        # the sites along the edge fewer than all.
        inside = selectors.finest_cells_inside(
            latitude=latitude, longitude=longitude, radius_m=2_000
        )
        bands = selectors.cells_inside_bands(inside)
        assert {band[0] for band in bands} >= {13, 14, 15}
        edge = selectors.sites_near_edge(
            latitude=latitude, longitude=longitude, radius_m=2_000, inside=inside
        ).count()
        exact = sites_near(latitude=latitude, longitude=longitude, radius_m=2_000).count()
        assert 0 < edge < exact / 2
        assert_counts_exact(latitude, longitude)

        # Pauses, a move across cells, then an owner who opts out (their sites leave the count).
        Site.objects.filter(pk__in=[site.pk for site in sites[::7]]).update(paused=True)
        Site.objects.filter(pk=sites[1].pk).update(latitude=latitude + CELL, longitude=longitude)
        assert_counts_exact(latitude, longitude)
        Participant.objects.update(status=Participant.Status.LAPSED)
        assert_counts_exact(latitude, longitude)
        assert (
            selectors.sites_near_count(latitude=latitude, longitude=longitude, radius_m=5_000) == 0
        )


def test_each_department_counts_its_own_sites():
    concord = seed("concord", "alice@example.org", 500, 1)
    carrollton = seed("carrollton", "bob@example.org", 300, 2)
    for schema, (latitude, longitude, _sites) in (("concord", concord), ("carrollton", carrollton)):
        with schema_context(schema):
            assert (
                selectors.sites_near_count(latitude=latitude, longitude=longitude, radius_m=5_000)
                == Site.objects.count()
            )
            assert_counts_exact(latitude, longitude)


def test_a_large_canvass_lists_the_nearest_from_a_smaller_circle(make_staff, monkeypatch):
    staff = make_staff("concord", "investigator")
    latitude, longitude, _sites = seed("concord", "many@example.org", 900, 3)
    with schema_context("concord"):
        incident = crime(staff.email, latitude + CELL / 3, longitude - CELL / 7, 2_500)
        every = selectors.canvass(incident)
        single = [
            selectors.canvass(incident, offset=offset, limit=limit)
            for offset, limit in ((0, 100), (100, 30), (600, 500), (10_000, 10))
        ]
        # Counted from the cells (the threshold lowered to this city's size).
        monkeypatch.setattr(selectors, "CANVASS_COUNTED_FROM", 100)
        with CaptureQueriesContext(connection) as sent:
            counted = selectors.canvass(incident, limit=100)
        statements = [query["sql"] for query in sent.captured_queries]
        assert any("registry_sitecell" in sql for sql in statements)
        # The nearest 100 from one circle far smaller than the search radius.
        listings = [sql for sql in statements if "OVER" in sql]
        assert len(listings) == 1
        assert f"<= {incident.search_radius_m}" not in listings[0]
        assert counted == single[0]
        assert counted.sites == every.sites[:100]
        assert counted.total == len(every.sites) > 500
        for (offset, limit), before in zip(
            ((0, 100), (100, 30), (600, 500), (10_000, 10)), single, strict=True
        ):
            assert selectors.canvass(incident, offset=offset, limit=limit) == before
            assert before.sites == every.sites[offset : offset + limit]


def test_the_bound_holds_every_site_near_and_is_each_citys_own():
    concord = seed("concord", "alice@example.org", 600, 5)
    carrollton = seed("carrollton", "bob@example.org", 40, 6)
    for schema, (latitude, longitude, _sites) in (("concord", concord), ("carrollton", carrollton)):
        with schema_context(schema):
            for lat, lng, radius_m in [
                *circles(latitude, longitude),
                (latitude + 0.011, longitude - 0.013, 100),
                (latitude, longitude, 40_000),
            ]:
                exact = sites_near(latitude=lat, longitude=lng, radius_m=radius_m).count()
                bound = selectors.sites_near_bound(
                    NearNumbers.of(latitude=lat, longitude=lng, radius_m=radius_m)
                )
                assert exact <= bound <= Site.objects.count(), (schema, lat, lng, radius_m)
            # The whole city within 40 km: the bound is every site, this city's alone.
            whole = NearNumbers.of(latitude=latitude, longitude=longitude, radius_m=40_000)
            assert (
                selectors.sites_near_bound(whole)
                == Site.objects.count()
                == (600 if schema == "concord" else 40)
            )


def test_a_canvass_where_the_bound_is_small_does_not_ask_the_cells(make_staff, monkeypatch):
    staff = make_staff("concord", "investigator")
    latitude, longitude, _sites = seed("concord", "few@example.org", 300, 7)
    with schema_context("concord"):
        incident = crime(staff.email, latitude, longitude, 1_000)
        exact = sites_near(latitude=latitude, longitude=longitude, radius_m=1_000).count()
        # The first canvass reads the bound's cells once; the next ones within the minute
        # send only their listing, which counts the canvass as it reads it.
        selectors.canvass(incident, limit=100)
        with CaptureQueriesContext(connection) as sent:
            canvass = selectors.canvass(incident, limit=100)
        assert [query["sql"] for query in sent.captured_queries if "sitecell" in query["sql"]] == []
        assert len(sent.captured_queries) == 1
        assert canvass.total == exact == len(canvass.sites) > 0
        # Above the threshold (lowered to this city's size), the cells count it: the same canvass.
        monkeypatch.setattr(selectors, "CANVASS_COUNTED_FROM", 50)
        with CaptureQueriesContext(connection) as sent:
            assert selectors.canvass(incident, limit=100) == canvass
        assert any("registry_sitecell" in query["sql"] for query in sent.captured_queries)
