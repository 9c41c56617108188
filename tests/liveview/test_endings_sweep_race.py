"""Two sweeps at once end a grant once: the second waits on the grant's row until the first
commits, then finds it ended. Committed rows on separate connections, in a throwaway city of
its own (its append-only audit trail goes with its schema)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.models import Grant
from portal.liveview.services import grants_expire
from portal.registry.models import AuditEntry
from tenants.database import database_owner
from tenants.models import Department
from tests.conftest import assert_test_database
from tests.liveview.ending_fixtures import LiveWorld, live_world

CITY = "sweeprace"


def city_remove() -> None:
    connection.set_schema_to_public()
    with database_owner():
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{CITY}" CASCADE')
        Department.objects.filter(schema_name=CITY).delete()


@pytest.fixture
def committed(django_db_setup, django_db_blocker) -> Iterator[LiveWorld]:
    with django_db_blocker.unblock():
        assert_test_database()
        city_remove()
        try:
            with database_owner():
                Department(schema_name=CITY, name="Sweep PD", city="S", state="NC").save(
                    verbosity=0
                )
            yield live_world(CITY, minutes=1)
        finally:
            connections.close_all()
            city_remove()
            connections.close_all()


def test_two_sweeps_at_once_end_a_grant_once(committed, django_db_blocker):
    later = timezone.now() + timedelta(minutes=5)
    first_holds_the_row = threading.Event()
    ended: dict[str, int] = {}

    def first() -> None:
        try:
            with schema_context(CITY), transaction.atomic():
                ended["first"] = grants_expire(now=later)
                first_holds_the_row.set()
                time.sleep(0.5)  # a real overlap: the second sweep must wait for this commit
        finally:
            first_holds_the_row.set()
            connections.close_all()

    def second() -> None:
        try:
            first_holds_the_row.wait(5)
            with schema_context(CITY):
                ended["second"] = grants_expire(now=later)
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        with schema_context(CITY):
            assert Grant.objects.get(pk=committed.grant_pk).ended_why == Grant.Ended.EXPIRED
            assert AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED_END).count() == 1
    assert ended == {"first": 1, "second": 0}
