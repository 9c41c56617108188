"""The audit trail cannot be rewritten by the application, and a rewrite by anyone else shows.

These tests connect as the application does (the normal test connection, the application's
role); tampering "as the owner" goes through tenants.database.database_owner and commits.
"""

from __future__ import annotations

import datetime
import itertools
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.registry.models import AuditEntry
from tenants.database import database_owner
from tenants.models import Department

pytestmark = pytest.mark.django_db

GENESIS = "0" * 64


def entry(**overrides: object) -> AuditEntry:
    fields = {
        "actor_email": "officer@concord.example.org",
        "actor_role": "investigator",
        "action": AuditEntry.Action.REVEAL,
        "reason": "Canvass for case CPD-2026-0142",
    }
    return AuditEntry.objects.create(**(fields | overrides))


def refused(sql: str) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE registry_auditentry SET reason = 'forged'",
        "DELETE FROM registry_auditentry",
        "TRUNCATE registry_auditentry",
        "ALTER TABLE registry_auditentry DISABLE TRIGGER ALL",
        "ALTER TABLE registry_auditentry DISABLE TRIGGER registry_auditentry_no_update_delete",
        "SET session_replication_role = replica",
        "DROP TRIGGER registry_auditentry_no_update_delete ON registry_auditentry",
        "DROP TRIGGER registry_auditentry_chain ON registry_auditentry",
        "CREATE OR REPLACE FUNCTION registry_auditentry_chain() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
        "CREATE OR REPLACE FUNCTION registry_auditentry_append_only() RETURNS trigger"
        " LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
        "DROP TABLE registry_auditentry",
        "ALTER TABLE registry_auditentry RENAME TO registry_auditentry_old",
        # PostgreSQL only warns that nothing was granted; the update is still refused.
        "GRANT UPDATE ON registry_auditentry TO CURRENT_USER;"
        " UPDATE registry_auditentry SET reason = 'forged'",
        "CREATE TRIGGER mine BEFORE INSERT ON registry_auditentry"
        " FOR EACH ROW EXECUTE FUNCTION registry_auditentry_chain()",
        "CREATE TABLE registry_auditentry_copy (id bigint)",
        "CREATE SCHEMA mine",
        "SELECT public.department_schema_create('concord')",
        "SELECT public.department_schema_create('public')",
        "INSERT INTO department_template.registry_auditentry"
        " (at, actor_email, actor_role, action, case_number, reason, prev_hash, hash)"
        " VALUES (now(), 'x@y.org', 'x', 'reveal', '', 'planted', '', '')",
    ],
)
def test_the_application_cannot_change_or_remove_entries_or_their_guards(sql):
    with schema_context("concord"):
        original = entry()
        refused(sql)
        assert AuditEntry.objects.get(pk=original.pk).reason == original.reason
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            assert cursor.fetchone() == ("origin",)


def test_a_back_dated_entry_gets_the_time_it_was_written():
    with schema_context("concord"):
        back_dated = entry(at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO registry_auditentry (id, at, actor_email, actor_role, action,"
                " case_number, reason, prev_hash, hash) VALUES (1, '2020-01-01', 'x@y.org',"
                " 'investigator', 'reveal', '', 'raw', %s, %s) RETURNING id, at, hash",
                [GENESIS, "f" * 64],
            )
            raw_id, raw_at, raw_hash = cursor.fetchone()
        stored = AuditEntry.objects.get(pk=back_dated.pk)
    a_minute_ago = timezone.now() - datetime.timedelta(minutes=1)
    assert stored.at > a_minute_ago and raw_at > a_minute_ago
    # Neither the id nor the hash is the caller's either.
    assert raw_id > back_dated.pk
    assert raw_hash != "f" * 64


def test_each_entry_links_to_the_one_before_it_in_its_city():
    with schema_context("concord"):
        first, second, third = entry(), entry(action="export"), entry(reason="Case CPD-7")
        chained = list(AuditEntry.objects.filter(pk__gte=first.pk).order_by("pk"))
        earlier = AuditEntry.objects.filter(pk__lt=first.pk).order_by("pk").last()
    assert [e.pk for e in chained] == [first.pk, second.pk, third.pk]
    assert chained[0].prev_hash == (earlier.hash if earlier else GENESIS)
    assert chained[1].prev_hash == chained[0].hash
    assert chained[2].prev_hash == chained[1].hash
    assert len({e.hash for e in chained}) == 3
    assert all(len(e.hash) == 64 for e in chained)


def test_entries_written_together_are_chained_in_order():
    with schema_context("concord"):
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(actor_email="a@x.org", actor_role="r", action="notify", reason=str(n))
                for n in range(5)
            ]
        )
        chained = list(AuditEntry.objects.order_by("pk"))
    for before, after in itertools.pairwise(chained):
        assert after.prev_hash == before.hash


def test_two_cities_have_independent_chains():
    with schema_context("concord"):
        concord = entry()
    with schema_context("carrollton"):
        earlier = AuditEntry.objects.order_by("pk").last()
        carrollton = entry(actor_email="officer@carrollton.example.org")
    with schema_context("concord"):
        after = entry()
    assert carrollton.pk and after.pk
    with schema_context("carrollton"):
        carrollton = AuditEntry.objects.get(pk=carrollton.pk)
    with schema_context("concord"):
        after = AuditEntry.objects.get(pk=after.pk)
        concord = AuditEntry.objects.get(pk=concord.pk)
    assert carrollton.prev_hash == (earlier.hash if earlier else GENESIS)
    assert after.prev_hash == concord.hash


def test_an_intact_trail_is_reported_as_such(capsys):
    with schema_context("concord"):
        entry()
        entry()
        count = AuditEntry.objects.count()
    call_command("audit_verify", "--schema", "concord")
    assert capsys.readouterr().out == f"concord: intact, {count} entries\n"


def riverside_remove() -> None:
    with database_owner():
        with connection.cursor() as cursor:
            cursor.execute('DROP SCHEMA IF EXISTS "riverside" CASCADE')
        Department.objects.filter(schema_name="riverside").delete()


@pytest.fixture(scope="module", autouse=True)
def _riverside_removed_at_the_end(django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    yield
    with django_db_blocker.unblock():
        riverside_remove()


@pytest.fixture
def riverside() -> list[int]:
    """A city whose trail the owner wrote and committed (four entries). The previous test's is
    removed first: dropping it while a test's transaction still reads it would wait for good."""
    riverside_remove()
    with database_owner():
        department = Department(schema_name="riverside", name="Riverside PD", city="R", state="CA")
        department.save(verbosity=0)
        with schema_context("riverside"):
            return [entry(reason=f"Case {n}").pk for n in range(4)]


def as_owner_in_riverside(sql: str, parameters: list[object]) -> None:
    with database_owner(), schema_context("riverside"), connection.cursor() as cursor:
        cursor.execute(
            "GRANT UPDATE, DELETE ON registry_auditentry TO CURRENT_USER;"
            "ALTER TABLE registry_auditentry DISABLE TRIGGER USER"
        )
        cursor.execute(sql, parameters)
        cursor.execute("ALTER TABLE registry_auditentry ENABLE TRIGGER USER")


def verify_riverside() -> str:
    from io import StringIO

    out = StringIO()
    with pytest.raises(CommandError, match="broken in riverside"):
        call_command("audit_verify", "--schema", "riverside", stdout=out)
    return out.getvalue()


def test_the_owner_changing_a_reason_is_reported_at_that_entry(riverside):
    call_command("audit_verify", "--schema", "riverside")
    as_owner_in_riverside(
        "UPDATE registry_auditentry SET reason = 'Routine check' WHERE id = %s", [riverside[2]]
    )
    report = verify_riverside()
    assert f"riverside: BROKEN at entry {riverside[2]}: its contents do not match" in report


def test_the_owner_removing_an_entry_is_reported_at_the_next_one(riverside):
    as_owner_in_riverside("DELETE FROM registry_auditentry WHERE id = %s", [riverside[1]])
    report = verify_riverside()
    assert f"riverside: BROKEN at entry {riverside[2]}: its link" in report


def test_the_owner_inserting_with_the_trigger_off_is_reported(riverside):
    as_owner_in_riverside(
        "INSERT INTO registry_auditentry (id, at, actor_email, actor_role, action, case_number,"
        " reason, prev_hash, hash) SELECT 1000, now(), 'x@y.org', 'investigator', 'reveal', '',"
        " 'planted', hash, hash FROM registry_auditentry WHERE id = %s",
        [riverside[3]],
    )
    assert "riverside: BROKEN at entry 1000: its contents do not match" in verify_riverside()


def test_the_application_role_owns_nothing_and_cannot_create_schemas():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles"
            " WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (False, False, False, False)
        cursor.execute("SELECT has_database_privilege(current_database(), 'CREATE')")
        assert cursor.fetchone() == (False,)
        cursor.execute(
            "SELECT 'schema ' || nspname FROM pg_namespace WHERE nspowner = current_user::regrole"
            " UNION ALL SELECT 'relation ' || relnamespace::regnamespace || '.' || relname"
            " FROM pg_class WHERE relowner = current_user::regrole"
            " UNION ALL SELECT 'function ' || oid::regprocedure::text FROM pg_proc"
            " WHERE proowner = current_user::regrole"
        )
        assert cursor.fetchall() == []
        # ...and the departments' schemas are there to be owned.
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relname = 'registry_auditentry'"
            " AND relnamespace::regnamespace::text IN ('concord', 'carrollton', 'littlerock')"
        )
        assert cursor.fetchone() == (3,)


def test_a_new_department_gets_the_same_guards(host_client):
    from tenants.services import department_provision
    from tests.tenants.springfield import SPRINGFIELD

    department_provision(**SPRINGFIELD)
    with schema_context("springfield"):
        first = AuditEntry.objects.get(pk=entry().pk)
        assert first.prev_hash == GENESIS
        refused("UPDATE registry_auditentry SET reason = 'forged'")
        refused("ALTER TABLE registry_auditentry DISABLE TRIGGER ALL")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole"
                " AND relnamespace = 'springfield'::regnamespace"
            )
            assert cursor.fetchone() == (0,)


INSERT = (
    "INSERT INTO riverside.registry_auditentry (at, actor_email, actor_role, action, case_number,"
    " reason, prev_hash, hash) VALUES (now(), 'a@x.org', 'investigator', 'reveal', '', %s, '', '')"
    " RETURNING id, prev_hash, hash"
)


def application_session() -> psycopg.Connection:
    """A session of the application's role of its own, outside the test's transaction."""
    from django.db import connections

    wrapper = connections.create_connection("default")
    return wrapper.get_new_connection(wrapper.get_connection_params())


def test_concurrent_entries_wait_for_each_other_and_chain_in_commit_order(riverside):
    with application_session() as first, application_session() as second:
        first_entry = first.execute(INSERT, ["first"]).fetchone()  # its transaction stays open
        results: list[tuple[int, str, str]] = []
        writer = threading.Thread(
            target=lambda: results.append(second.execute(INSERT, ["second"]).fetchone())
        )
        writer.start()
        deadline = time.monotonic() + 10
        waiting = False
        while not waiting and time.monotonic() < deadline:
            waiting = first.execute(
                "SELECT %s = ANY(pg_blocking_pids(%s))",
                [first.info.backend_pid, second.info.backend_pid],
            ).fetchone()[0]
        assert waiting, "the second writer did not wait for the first"
        first.commit()
        writer.join(timeout=10)
        second.commit()
    (second_entry,) = results
    assert second_entry[1] == first_entry[2]
    assert second_entry[0] > first_entry[0]
    call_command("audit_verify", "--schema", "riverside")


def test_entries_written_before_the_chain_existed_are_chained_by_its_migration(riverside):
    def migrate_registry(to: str) -> None:
        call_command(
            "migrate_schemas",
            "registry",
            to,
            tenant=True,
            schema_name="riverside",
            interactive=False,
            verbosity=0,
        )

    with database_owner():
        migrate_registry("0004_imports_jobs")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO riverside.registry_auditentry (at, actor_email, actor_role, action,"
                " case_number, category, note, reason) VALUES (now(), 'a@x.org',"
                " 'investigator', 'reveal', '', '', '', 'before the chain')"
            )
        migrate_registry("0006_auditdb_hash_chain")
        call_command("audit_verify", "--schema", "riverside")
        # Forward again: the model has the columns later migrations add (support sessions').
        call_command(
            "migrate_schemas", "registry", tenant=True, schema_name="riverside", verbosity=0
        )
    call_command("audit_verify", "--schema", "riverside")
    with schema_context("riverside"):
        assert AuditEntry.objects.count() == 5
        assert AuditEntry.objects.order_by("pk").last().reason == "before the chain"
        assert entry().pk
    call_command("audit_verify", "--schema", "riverside")
