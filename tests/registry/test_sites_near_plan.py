"""The distance search reads the location index instead of scanning the table, at every radius,
and joins the sites' owners one by one instead of hashing every participant of the city:
checked on the plan PostgreSQL chooses for a realistic table, not by timing."""

from __future__ import annotations

import random

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.registry.models import Participant, Site
from portal.registry.selectors import sites_near
from tenants.database import database_owner
from tests.conftest import assert_test_database
from tests.registry.test_sites_near import CENTRE

# No django_db mark: the rows are committed, so that the owner's ANALYZE sees them.

SITES = 20_000
OWNERS = 2_000  # ten sites each, as in a city where businesses register several


@pytest.fixture(scope="module")
def analysed_city(django_db_setup, django_db_blocker):
    """20,000 sites of 2,000 owners within about 22 km of the centre, committed and analysed
    (statistics are the owner's to gather: the application may not ANALYZE), then removed."""
    rng = random.Random(3)
    with django_db_blocker.unblock():
        assert_test_database()
        unusable = make_password(None)
        with schema_context("concord"):
            users = get_user_model().objects.bulk_create(
                get_user_model()(
                    username=f"plan{n}@plan.example.org",
                    email=f"plan{n}@plan.example.org",
                    password=unusable,
                )
                for n in range(OWNERS)
            )
            owners = Participant.objects.bulk_create(Participant(user=user) for user in users)
        try:
            with schema_context("concord"):
                Site.objects.bulk_create(
                    Site(
                        participant=owners[n % OWNERS],
                        kind="home",
                        address="x",
                        latitude=CENTRE[0] + rng.uniform(-0.2, 0.2),
                        longitude=CENTRE[1] + rng.uniform(-0.2, 0.2),
                        contact_name="x",
                        contact_method="phone",
                        terms_version=1,
                        terms_accepted_at=timezone.now(),
                    )
                    for n in range(SITES)
                )
            with database_owner(), connection.cursor() as cursor:
                cursor.execute("ANALYZE concord.registry_site")
                cursor.execute("ANALYZE concord.registry_participant")
            yield
        finally:
            with schema_context("concord"):
                # Their participants and sites go with them.
                get_user_model().objects.filter(pk__in=[user.pk for user in users]).delete()
            with database_owner(), connection.cursor() as cursor:
                cursor.execute("ANALYZE concord.registry_site")
                cursor.execute("ANALYZE concord.registry_participant")


@pytest.mark.parametrize("radius_m", [50, 500, 1_000, 5_000, 20_000, 40_000])
def test_the_search_reads_the_location_index_at_every_radius(
    analysed_city, django_db_blocker, radius_m
):
    with django_db_blocker.unblock(), schema_context("concord"):
        plan = sites_near(latitude=CENTRE[0], longitude=CENTRE[1], radius_m=radius_m).explain()
    assert "Seq Scan on registry_site" not in plan, plan
    assert "registry_site_location" in plan, plan


@pytest.mark.parametrize("radius_m", [500, 1_000, 5_000])
def test_owners_are_looked_up_by_key_not_hashed_whole(analysed_city, django_db_blocker, radius_m):
    with django_db_blocker.unblock(), schema_context("concord"):
        plan = sites_near(latitude=CENTRE[0], longitude=CENTRE[1], radius_m=radius_m).explain()
    assert "Seq Scan on registry_participant" not in plan, plan
    assert "Hash Join" not in plan, plan
