"""Queries kept compiled (tenants.compiled) return their queryset's rows, in each city's schema
alone, with the same keys existing in two cities on purpose; a query that cannot be kept (one
that reads the clock as it is built, a slot its SQL does not hold, model rows) is refused, and a
value out of its column's range gets the ORM's answer, not the driver's error. Kept queries run
as prepared statements, one per connection, which PostgreSQL parses again in the other city's
schema when the search path changes; with DB_PREPARED_STATEMENTS off nothing is prepared."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department import selectors
from portal.department.models import CanvassEntry, Incident, Notification, NotificationRecipient
from portal.liveview.selectors import SHARED_CAMERA_SITES, shared_cameras
from portal.registry.models import AuditEntry, Camera, Participant, Site
from portal.registry.selectors import sites_near, sites_near_among
from tenants.compiled import AnyOf, CompiledQuery, CompileError
from tenants.models import Program

pytestmark = pytest.mark.django_db

# Keys far above the demo data's, the same in both cities.
FIRST_SITE = 880_001
INCIDENT = 770_001


def seed(schema: str, street: str, retention: int) -> Incident:
    """Five sites near the city's centre with the same keys in each city (a street of the
    city's own), two cameras each, a canvass entry and an area notice with answers."""
    program = Program.objects.get(department__schema_name=schema)
    with schema_context(schema):
        user = get_user_model().objects.create_user(username=street, email=f"{street}@x.org")
        participant = Participant.objects.create(user=user)
        sites = Site.objects.bulk_create(
            Site(
                pk=FIRST_SITE + n,
                participant=participant,
                kind="home",
                address=f"{n} {street}",
                latitude=program.center_latitude + n * 0.001,
                longitude=program.center_longitude,
                contact_name="Owner",
                contact_method="phone",
                terms_version=1,
                terms_accepted_at=timezone.now(),
            )
            for n in range(5)
        )
        Camera.objects.bulk_create(
            Camera(
                pk=FIRST_SITE + 10 * n + m,
                site=site,
                label=f"{street} {m}",
                direction=90 * m,
                sees=["street"],
                mount="wall",
                recording="continuous",
                retention_days=retention + m,
                paused=(n == 4 and m == 1),
            )
            for n, site in enumerate(sites)
            for m in range(2)
        )
        staff = get_user_model().objects.get(email=f"admin@{schema}.example.org")
        incident = Incident.objects.create(
            pk=INCIDENT,
            kind="crime",
            case_number=f"{street}-1",
            latitude=program.center_latitude,
            longitude=program.center_longitude,
            starts_at=timezone.now() - timedelta(days=10),
            ends_at=timezone.now() - timedelta(days=10),
            radius_m=2_000,
            opened_by=staff,
        )
        CanvassEntry.objects.create(
            incident=incident, site=sites[1], state="declined", notes=f"{street} said no"
        )
        notice = Notification.objects.create(
            incident=incident, message="Check", radius_m=2_000, created_by=staff
        )
        NotificationRecipient.objects.create(
            notification=notice, participant=participant, answer="has_footage"
        )
    return incident


@pytest.fixture
def cities() -> dict[str, Incident]:
    return {"concord": seed("concord", "Elm St", 7), "carrollton": seed("carrollton", "Oak St", 30)}


def test_each_kept_query_gives_its_querysets_rows_in_each_city_alone(cities):
    keys = [FIRST_SITE + n for n in range(5)]
    seen = {}
    for schema, incident in cities.items():
        with schema_context(schema):
            cameras = selectors.canvass_cameras(keys)
            assert {pk: list(views) for pk, views in cameras.items()} == {
                pk: [
                    selectors.CameraView(*row)
                    for row in Camera.objects.active()
                    .filter(site_id=pk)
                    .order_by("pk")
                    .values_list("direction", "sees", "retention_days")
                ]
                for pk in keys
            }
            assert selectors.canvass_entries(incident) == {
                FIRST_SITE + 1: ("declined", f"{incident.case_number[:-2]} said no")
            }
            notices = selectors.incident_notices(incident)
            assert [(n.kind, n.with_footage, n.nothing) for n in notices] == [("area", 1, 0)]
            assert {site for (site,) in SHARED_CAMERA_SITES.rows()} == set(
                shared_cameras().values_list("site_id", flat=True)
            )
            for counted in (True, False):
                for start, stop in ((0, 100), (1, 3), (2, None)):
                    for missing in (False, True):
                        incident.kind = "missing_person" if missing else "crime"
                        search = selectors.canvass_search(incident)
                        expected = (
                            selectors.canvass_counted(search)
                            if counted
                            else search.values_list(*selectors.CANVASS_COLUMNS)
                        )
                        kept = selectors.canvass_rows(
                            selectors.canvass_numbers(incident),
                            counted=counted,
                            start=start,
                            stop=stop,
                        )
                        assert kept == list(expected[start:stop])
            incident.kind = "crime"
            seen[schema] = (cameras, selectors.canvass(incident, limit=100).sites)
            for site in seen[schema][1]:
                assert selectors.canvass_site(incident, site.pk, number=site.number) == site
            Site.objects.filter(pk=FIRST_SITE).update(paused=True)
            assert selectors.canvass_site(incident, FIRST_SITE, number=1) is None
    # The same keys, each city's own rows: Concord keeps a week of video, Carrollton a month.
    assert seen["concord"][0][FIRST_SITE][0].retention_days == 7
    assert seen["carrollton"][0][FIRST_SITE][0].retention_days == 30
    assert [site.address for site in seen["concord"][1] if site.pk == FIRST_SITE] == ["0 Elm St"]
    assert [site.address for site in seen["carrollton"][1] if site.pk == FIRST_SITE] == ["0 Oak St"]
    # Searched 10 days after the case: a week's video is gone, a month's is not.
    assert not any(site.footage_likely for site in seen["concord"][1] if site.pk in keys)
    assert all(site.footage_likely for site in seen["carrollton"][1] if site.pk in keys)


def test_the_distance_search_among_some_sites_is_each_citys_own(cities):
    """The live cameras' search (sites_near among the sites with a shared camera), kept
    compiled: the queryset's sites and distances, nearest first, in each city alone, the same
    keys in both; a site paused in one city is left out there only."""
    keys = [FIRST_SITE + n for n in range(5)]
    with schema_context("concord"):
        Site.objects.filter(pk=FIRST_SITE + 1).update(paused=True)
    found = {}
    for schema, incident in cities.items():
        with schema_context(schema):
            near = {
                "latitude": incident.latitude,
                "longitude": incident.longitude,
                "radius_m": 300,
            }
            found[schema] = sites_near_among([*keys, 990_001], **near)
            expected = sites_near(**near).filter(pk__in=keys)
            assert list(found[schema].items()) == [
                (site.pk, site.__dict__["distance_m"]) for site in expected
            ]
            assert sites_near_among([], **near) == {}
    # 0, 111 and 222 m from the centre; the fourth site, 333 m away, is outside the radius.
    assert list(found["carrollton"]) == [FIRST_SITE, FIRST_SITE + 1, FIRST_SITE + 2]
    assert list(found["concord"]) == [FIRST_SITE, FIRST_SITE + 2]


def test_a_key_list_of_any_length_is_one_parameter(cities):
    query = CompiledQuery(
        lambda keys: Site.objects.filter(AnyOf(F("pk"), keys)).order_by("pk").values_list("pk"),
        keys=list,
    )
    with schema_context("concord"):
        assert query.rows(keys=[]) == []
        assert query.rows(keys=[FIRST_SITE + 2]) == [(FIRST_SITE + 2,)]
        assert query.rows(keys=[FIRST_SITE + 3, FIRST_SITE, 5]) == [
            (FIRST_SITE,),
            (FIRST_SITE + 3,),
        ]


def test_a_value_out_of_its_columns_range_gets_the_orms_answer(cities):
    query = CompiledQuery(
        lambda days: Camera.objects.filter(
            site_id__gte=FIRST_SITE, retention_days__gte=days
        ).values_list("pk"),
        days=int,
    )
    with schema_context("concord"):
        assert len(query.rows(days=8)) == 5  # 7 and 8 days: one camera a site of each
        assert query.rows(days=40_000) == []  # a small integer column holds no such value
        assert len(query.rows(days=-40_000)) == 10


def test_a_query_that_reads_the_clock_is_refused(cities):
    query = CompiledQuery(
        lambda: AuditEntry.objects.filter(at__gte=timezone.now()).values_list("pk")
    )
    with schema_context("concord"), pytest.raises(CompileError, match="constant"):
        query.rows()


def test_a_slot_the_sql_does_not_hold_as_one_parameter_is_refused(cities):
    spread = CompiledQuery(
        lambda keys: Site.objects.filter(pk__in=keys).values_list("pk"), keys=list
    )
    with schema_context("concord"), pytest.raises(CompileError):
        spread.rows(keys=[FIRST_SITE])


def test_model_rows_are_refused(cities):
    with schema_context("concord"), pytest.raises(CompileError, match="values_list"):
        CompiledQuery(lambda: Site.objects.all()).rows()


def test_the_values_asked_must_be_the_slots(cities):
    query = CompiledQuery(lambda pk: Site.objects.filter(pk=pk).values_list("pk"), pk=int)
    with schema_context("concord"), pytest.raises(TypeError):
        query.rows(key=1)


def prepared(text: str) -> list[tuple[str, list[str]]]:
    """This connection's prepared statements that contain `text`, with their parameters' types."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, parameter_types::text[] FROM pg_prepared_statements"
            " WHERE strpos(statement, %s) > 0",
            [text],
        )
        return cursor.fetchall()


ADDRESS_OF = CompiledQuery(
    lambda pk: Site.objects.filter(pk=pk, address__contains="St").values_list("address"),
    pk=int,
)


def test_a_kept_query_is_prepared_once_and_reads_the_current_citys_tables(cities):
    assert prepared('"registry_site"."address"::text LIKE') == []
    for _round in range(3):
        for schema, street in (("concord", "Elm St"), ("carrollton", "Oak St")):
            with schema_context(schema):
                assert ADDRESS_OF.rows(pk=FIRST_SITE + 2) == [(f"2 {street}",)]
    # One statement on the connection for both cities, bound on the server ($1, $2).
    ((statement, types),) = prepared('"registry_site"."address"::text LIKE')
    assert "$1" in statement and "Elm" not in statement
    assert len(types) == 2
    # The query log still shows what ran, with its values (assertNumQueries and DEBUG read it).
    with schema_context("concord"), CaptureQueriesContext(connection) as captured:
        ADDRESS_OF.rows(pk=FIRST_SITE + 3)
    assert f'"registry_site"."id" = {FIRST_SITE + 3})' in captured.captured_queries[-1]["sql"]


@override_settings(DATABASE_PREPARED_STATEMENTS=False)
def test_with_prepared_statements_off_kept_queries_are_not_prepared(cities):
    for schema, street in (("concord", "Elm St"), ("carrollton", "Oak St")):
        with schema_context(schema):
            assert ADDRESS_OF.rows(pk=FIRST_SITE + 1) == [(f"1 {street}",)]
    assert prepared('"registry_site"."address"::text LIKE') == []
