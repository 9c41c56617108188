"""What a deployment gets without configuring anything: persistent, health-checked database
connections; the schema's search path set once per request and schema, not before every
query; static files answered before the department is looked up; staff sessions not rewritten
on every request; many small commits that do not wait for the disk, where asked for."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.services import department_schemas_behind
from tests.canvass.test_settings import PRODUCTION, manage

SHOW_DATABASE = (
    "from django.conf import settings; d = settings.DATABASES['default']; "
    "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
)


def test_production_keeps_its_database_connections_and_checks_them():
    result = manage("shell", "--no-imports", "-c", SHOW_DATABASE, env=PRODUCTION)
    assert result.stdout.split() == ["600", "True"], result.stderr
    result = manage(
        "shell", "--no-imports", "-c", SHOW_DATABASE, env=PRODUCTION | {"DB_CONN_MAX_AGE": "0"}
    )
    assert result.stdout.split() == ["0", "True"], result.stderr


@pytest.mark.django_db
def test_a_page_sets_the_search_path_once_per_schema(make_staff):
    staff = make_staff("concord", "investigator")
    with CaptureQueriesContext(connection) as queries:
        assert staff.client.get("/department/").status_code == 200
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) > 3
    # Once for the department's lookup in the public schema, once for the city's own queries.
    assert [sql for sql in statements if sql.startswith("SET search_path")] == [
        'SET search_path = "public"',
        'SET search_path = "concord","public"',
    ]


@pytest.mark.django_db
def test_switching_schemas_on_one_connection_reads_each_citys_rows(make_staff):
    make_staff("concord", "investigator", email="same@example.org")
    for schema_name in ("carrollton", "concord", "carrollton"):
        with schema_context(schema_name):
            from django.contrib.auth import get_user_model

            found = get_user_model().objects.filter(email="same@example.org").exists()
            assert found == (schema_name == "concord")


@pytest.mark.django_db
def test_a_static_file_is_answered_before_the_department_is_looked_up(
    settings, tmp_path, host_client, django_assert_num_queries
):
    (tmp_path / "portal").mkdir()
    (tmp_path / "portal" / "site.css").write_text("body { color: black; }")
    settings.STATIC_ROOT = tmp_path
    for host in ("concord.localhost", "nowhere.localhost"):
        with django_assert_num_queries(0):
            response = host_client(host).get("/static/portal/site.css")
        assert response.status_code == 200, host
        assert b"".join(response.streaming_content) == b"body { color: black; }"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def session_expiry(staff) -> object:
    key = staff.client.cookies["sessionid"].value
    with schema_context("concord"):
        return Session.objects.get(session_key=key).expire_date


@pytest.mark.django_db
def test_a_staff_session_is_rewritten_at_most_once_a_minute(make_staff):
    staff = make_staff("concord", "investigator")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert staff.client.get("/department/").status_code == 200
    expires = session_expiry(staff)
    with time_machine.travel(start + timedelta(seconds=50), tick=False):
        assert staff.client.get("/department/").status_code == 200
    assert session_expiry(staff) == expires
    with time_machine.travel(start + timedelta(seconds=70), tick=False):
        assert staff.client.get("/department/").status_code == 200
    assert session_expiry(staff) == expires + timedelta(seconds=70)


def synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_platform_setup_finds_the_departments_with_a_migration_to_apply():
    assert department_schemas_behind() == []
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM carrollton.django_migrations WHERE app = 'registry' AND name = "
            "(SELECT max(name) FROM carrollton.django_migrations WHERE app = 'registry')"
        )
    assert department_schemas_behind() == ["carrollton"]


SHOW_IMPORT_PROCESSES = (
    "from django.conf import settings; import os; "
    "print(settings.IMPORT_CHECK_PROCESSES, os.cpu_count() or 1)"
)


def test_an_import_check_forks_its_processes_only_in_a_worker_with_a_broker():
    """Without a broker the jobs run in the web server's threads, where a fork could leave a
    checking process waiting on a lock another thread held: one process there, unless set."""
    clean = {"CELERY_BROKER_URL": "", "IMPORT_CHECK_PROCESSES": ""}
    worker = PRODUCTION | clean | {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/1"}
    result = manage("shell", "--no-imports", "-c", SHOW_IMPORT_PROCESSES, env=worker)
    chosen, cores = result.stdout.split()
    assert chosen == cores, result.stderr
    result = manage("shell", "--no-imports", "-c", SHOW_IMPORT_PROCESSES, env=PRODUCTION | clean)
    assert result.stdout.split()[0] == "1", result.stderr
    chosen_by_hand = PRODUCTION | clean | {"IMPORT_CHECK_PROCESSES": "3"}
    result = manage("shell", "--no-imports", "-c", SHOW_IMPORT_PROCESSES, env=chosen_by_hand)
    assert result.stdout.split()[0] == "3", result.stderr
