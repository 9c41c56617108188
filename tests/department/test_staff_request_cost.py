"""What a signed-in staff request sends to the database before its view: the staff member and
their second factor in one statement, no `SET search_path` when the connection is already on
the city's schema, and the console's links rendered once per role, language and city; each
still refusing at once what it must (a removed second factor, a removed staff member, another
city's rows)."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import Incident
from portal.registry.models import StaffMember

pytestmark = pytest.mark.django_db


def statements(client, path: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    return status, [query["sql"] for query in queries.captured_queries]


def test_the_staff_member_and_their_second_factor_are_read_in_one_statement(admin):
    admin.client.get("/department/license/")
    status, sent = statements(admin.client, "/department/license/")
    assert status == 200
    staff_reads = [sql for sql in sent if '"registry_staffmember"' in sql]
    assert len(staff_reads) == 1
    assert '"mfa_authenticator"' in staff_reads[0]
    assert not [sql for sql in sent if '"mfa_authenticator"' in sql and sql not in staff_reads]


def test_a_second_factor_removed_sends_the_staff_member_to_set_one_up_at_once(admin):
    assert admin.client.get("/department/license/").status_code == 200
    with schema_context("concord"):
        Authenticator.objects.filter(user__email=admin.email).delete()
    response = admin.client.get("/department/license/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_staff_member_without_a_second_factor_is_sent_to_set_one_up(make_staff):
    analyst = make_staff("concord", "analyst", mfa=False)
    response = analyst.client.get("/department/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_a_staff_member_removed_is_refused_on_their_next_request(admin):
    assert admin.client.get("/department/license/").status_code == 200
    with schema_context("concord"):
        StaffMember.objects.filter(user__email=admin.email).delete()
    assert admin.client.get("/department/license/").status_code == 403


def test_a_role_changed_shows_on_the_next_request(admin):
    assert "/department/staff/" in admin.client.get("/department/").content.decode()
    with schema_context("concord"):
        StaffMember.objects.filter(user__email=admin.email).update(role="analyst")
    page = admin.client.get("/department/").content.decode()
    assert "/department/staff/" not in page
    assert admin.client.get("/department/license/").status_code == 403


def test_a_connection_already_on_the_citys_schema_is_not_told_again(admin):
    admin.client.get("/department/license/")
    status, sent = statements(admin.client, "/department/license/")
    assert status == 200
    assert not [sql for sql in sent if sql.startswith("SET search_path")]


def test_two_cities_on_one_connection_each_read_their_own_rows(make_staff):
    """Incidents with the same id in both cities: each city's staff see their own on every
    request, alternating on one database connection, and a change of city sets the path."""
    concord = make_staff("concord", "administrator")
    carrollton = make_staff("carrollton", "administrator")
    for staff in (concord, carrollton):
        schema_name = staff.schema_name
        with schema_context(schema_name):
            Incident.objects.create(
                pk=4242,
                kind="crime",
                category="burglary",
                case_number=f"{schema_name.upper()}-CASE",
                latitude=35.4,
                longitude=-80.6,
                starts_at=timezone.now(),
                ends_at=timezone.now(),
                radius_m=300,
                opened_by=get_user_model().objects.get(email=staff.email),
            )
    for _round in range(3):
        for staff, own, other in (
            (concord, "CONCORD-CASE", "CARROLLTON-CASE"),
            (carrollton, "CARROLLTON-CASE", "CONCORD-CASE"),
        ):
            with CaptureQueriesContext(connection) as queries:
                page = staff.client.get("/department/incidents/4242/edit/")
            assert page.status_code == 200
            assert own in page.content.decode()
            assert other not in page.content.decode()
            sent = [query["sql"] for query in queries.captured_queries]
            assert any(sql.startswith("SET search_path") for sql in sent)
            # The canvass page reads its incident by a kept query: the city's own as well.
            canvass = staff.client.get("/department/incidents/4242/").content.decode()
            assert own in canvass and other not in canvass
        same_city_again = statements(carrollton.client, "/department/incidents/4242/edit/")[1]
        assert not [sql for sql in same_city_again if sql.startswith("SET search_path")]


def test_each_role_sees_its_own_links_in_each_language(admin, make_staff):
    analyst = make_staff("concord", "analyst")
    assert "/department/staff/" in admin.client.get("/department/").content.decode()
    page = analyst.client.get("/department/").content.decode()
    assert "/department/staff/" not in page
    assert "/department/map/" in page
    # The same role in Spanish gets the Spanish links, and English again the English ones.
    spanish = analyst.client.get("/department/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    english = analyst.client.get("/department/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert ">Mapa</a>" in spanish
    assert ">Map</a>" in english
    assert ">Staff</a>" in admin.client.get("/department/").content.decode()


def test_a_session_ended_elsewhere_is_refused_at_once(admin):
    """The session is read afresh on every request (tenants.session_engine): ending it (the
    staff member removed, signed out everywhere) signs the browser out on its next request."""
    from tenants.sessions import sessions_end

    assert admin.client.get("/department/license/").status_code == 200
    with schema_context("concord"):
        user_id = get_user_model().objects.get(email=admin.email).pk
        assert sessions_end(user_id=user_id) == 1
    response = admin.client.get("/department/license/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_idle_staff_session_ends_after_its_limit(admin, settings):
    import time_machine

    assert admin.client.get("/department/license/").status_code == 200
    with time_machine.travel(
        timezone.now() + timezone.timedelta(seconds=settings.STAFF_IDLE_SECONDS + 5)
    ):
        response = admin.client.get("/department/license/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_incident_that_is_not_there_is_not_found(admin):
    for key in ("4243", "99999999999999999999"):
        assert admin.client.get(f"/department/incidents/{key}/").status_code == 404
