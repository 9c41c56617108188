"""The distance search reads the location index instead of scanning the table: checked on the
plan PostgreSQL chooses for a realistic table, not by timing."""

from __future__ import annotations

import random

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.registry.models import Participant, Site
from portal.registry.selectors import sites_near
from tenants.database import database_owner
from tests.conftest import assert_test_database
from tests.registry.test_sites_near import CENTRE

# No django_db mark: the rows are committed, so that the owner's ANALYZE sees them.


def test_the_search_uses_the_index_instead_of_scanning_the_table(django_db_blocker):
    """20,000 sites, committed and analysed (statistics are the owner's to gather: the
    application may not ANALYZE), then removed again."""
    rng = random.Random(3)
    with django_db_blocker.unblock():
        assert_test_database()
        with schema_context("concord"):
            user = get_user_model().objects.create_user(
                username="index@plan.example.org", email="index@plan.example.org"
            )
            owner = Participant.objects.create(user=user)
        try:
            with schema_context("concord"):
                Site.objects.bulk_create(
                    Site(
                        participant=owner,
                        kind="home",
                        address="x",
                        latitude=CENTRE[0] + rng.uniform(-0.2, 0.2),
                        longitude=CENTRE[1] + rng.uniform(-0.2, 0.2),
                        contact_name="x",
                        contact_method="phone",
                        terms_version=1,
                        terms_accepted_at=timezone.now(),
                    )
                    for _ in range(20_000)
                )
            with database_owner(), connection.cursor() as cursor:
                cursor.execute("ANALYZE concord.registry_site")
            with schema_context("concord"):
                plan = sites_near(latitude=CENTRE[0], longitude=CENTRE[1], radius_m=500).explain()
            assert "Seq Scan on registry_site" not in plan, plan
            assert Site._meta.indexes[0].name in plan, plan
        finally:
            with schema_context("concord"):
                user.delete()  # its participant and sites go with it
            with database_owner(), connection.cursor() as cursor:
                cursor.execute("ANALYZE concord.registry_site")
