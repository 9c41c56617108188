"""The one distance search: exact to great-circle distance, nearest first, indexed."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.registry.models import Camera, Participant, Site
from portal.registry.selectors import sites_near

pytestmark = pytest.mark.django_db

CENTRE = (35.4088, -80.5795)


def great_circle_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Spherical law of cosines: an independent formula to check the search against."""
    (lat1, lng1), (lat2, lng2) = [(math.radians(x), math.radians(y)) for x, y in (a, b)]
    cosine = math.sin(lat1) * math.sin(lat2) + math.cos(lat1) * math.cos(lat2) * math.cos(
        lng2 - lng1
    )
    return 6_371_008.8 * math.acos(min(1.0, cosine))


def add_site(participant, latitude, longitude, retention=7, **fields) -> Site:
    site = Site.objects.create(
        participant=participant,
        kind="home",
        address=f"{latitude:.5f},{longitude:.5f}",
        latitude=latitude,
        longitude=longitude,
        contact_name="Owner",
        contact_method="phone",
        terms_version=1,
        terms_accepted_at=timezone.now(),
        **fields,
    )
    Camera.objects.create(
        site=site,
        label="c",
        direction=0,
        sees=["street"],
        mount="wall",
        recording="motion",
        retention_days=retention,
    )
    return site


@pytest.fixture
def owner(make_resident):
    make_resident("concord")
    with schema_context("concord"):
        return Participant.objects.get()


def test_distances_match_the_great_circle_within_one_percent(owner):
    rng = random.Random(7)
    with schema_context("concord"):
        points = [
            (CENTRE[0] + rng.uniform(-0.04, 0.04), CENTRE[1] + rng.uniform(-0.04, 0.04))
            for _ in range(60)
        ]
        for point in points:
            add_site(owner, *point)
        found = list(sites_near(latitude=CENTRE[0], longitude=CENTRE[1], radius_m=10_000))
        assert len(found) == 60
        for site in found:
            expected = great_circle_m(CENTRE, (site.latitude, site.longitude))
            assert abs(site.distance_m - expected) <= 0.01 * expected + 0.01


def test_nearest_first_and_nothing_beyond_the_radius(owner):
    with schema_context("concord"):
        far = add_site(owner, CENTRE[0] + 0.02, CENTRE[1])  # about 2.2 km north
        near = add_site(owner, CENTRE[0] + 0.001, CENTRE[1])  # about 111 m
        middle = add_site(owner, CENTRE[0], CENTRE[1] + 0.005)  # about 453 m
        found = list(sites_near(latitude=CENTRE[0], longitude=CENTRE[1], radius_m=1_000))
        assert [site.pk for site in found] == [near.pk, middle.pk]
        assert far.pk not in [site.pk for site in found]
        assert round(found[0].distance_m) == 111


def test_paused_and_lapsed_sites_are_not_found(owner, make_resident):
    with schema_context("concord"):
        add_site(owner, CENTRE[0], CENTRE[1], paused=True)
        owner.status = Participant.Status.LAPSED
        owner.save()
        add_site(owner, CENTRE[0], CENTRE[1])
        assert list(sites_near(latitude=CENTRE[0], longitude=CENTRE[1], radius_m=500)) == []


def test_footage_is_marked_by_each_cameras_retention(owner):
    with schema_context("concord"):
        short = add_site(owner, CENTRE[0], CENTRE[1], retention=3)
        long = add_site(owner, CENTRE[0] + 0.0001, CENTRE[1], retention=30)
        seen_at = timezone.now() - timedelta(days=5)
        found = {
            site.pk: site.footage_likely
            for site in sites_near(
                latitude=CENTRE[0], longitude=CENTRE[1], radius_m=500, seen_at=seen_at
            )
        }
        assert found == {short.pk: False, long.pk: True}
