"""Provisioning creates a whole department in one call, by cloning, and can be repeated."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, schema_exists

from portal.registry.models import AuditEntry
from tenants import services
from tenants.models import Department, Domain
from tenants.schema_clone import CLONE_FUNCTION
from tenants.services import department_provision, template_schema_is_current
from tests.tenants.owner import as_owner, owner_changes
from tests.tenants.springfield import SPRINGFIELD

pytestmark = pytest.mark.django_db


def provision(**overrides):
    return department_provision(**(SPRINGFIELD | overrides))


def test_it_creates_schema_domain_branding_program_and_administrator(host_client, sign_in):
    result = provision(primary_color="#0f766e", goal_camera_count=900)

    department = Department.objects.get(schema_name="springfield")
    assert result.created
    assert schema_exists("springfield")
    assert Domain.objects.get(tenant=department).domain == "springfield.localhost"
    assert department.branding.display_name == "Springfield Camera Registry"
    assert department.branding.primary_color == "#0f766e"
    assert department.program.goal_camera_count == 900
    with schema_context("springfield"):
        administrator = get_user_model().objects.get()
        assert administrator.email == "chief@springfield.example.org"
        assert administrator.is_staff
    page = host_client("springfield.localhost").get("/")
    assert "<h1>Springfield Camera Registry</h1>" in page.content.decode()


def test_the_new_administrator_can_sign_in(host_client):
    provision()
    client = host_client("springfield.localhost")
    response = client.post(
        "/accounts/login/",
        {"login": "chief@springfield.example.org", "password": "a-long-enough-passphrase"},
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_it_clones_the_template_schema_instead_of_migrating():
    assert template_schema_is_current()
    with CaptureQueriesContext(connection) as queries:
        provision()
    statements = [query["sql"].lstrip() for query in queries.captured_queries]
    # The application changes no structure itself: the owner's function copies the template,
    # with one script, its tables, rows, constraints, indexes and triggers.
    assert not [sql for sql in statements if "CREATE " in sql.upper()]
    assert "SELECT public.department_schema_create('springfield')" in statements
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'department_schema_create'")
        (script,) = cursor.fetchone()
    assert 'CREATE TABLE "registry_auditentry" (' in script
    assert 'INSERT INTO "django_migrations"' in script
    assert 'FROM "department_template"."django_migrations"' in script
    assert not any(sql.startswith("SELECT clone_schema(") for sql in statements)


def test_it_migrates_when_no_template_exists():
    as_owner('DROP SCHEMA "department_template" CASCADE')
    with CaptureQueriesContext(connection) as queries:
        provision()
    statements = [query["sql"].lstrip() for query in queries.captured_queries]
    assert not any(
        sql.startswith("SELECT clone_schema(") or "department_schema_create" in sql
        for sql in statements
    )
    with schema_context("springfield"):
        assert get_user_model().objects.count() == 1
        assert not AuditEntry.objects.exists()


def test_it_migrates_when_cloning_is_switched_off():
    owner_changes()
    with override_settings(TENANT_BASE_SCHEMA=False, TENANT_CREATION_FAKES_MIGRATIONS=False):
        provision(subdomain="shelbyville", name="Shelbyville Police Department")
    with schema_context("shelbyville"):
        assert get_user_model().objects.count() == 1


def test_a_schema_the_owner_migrated_is_dropped_when_provisioning_fails(monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("mail server down")

    monkeypatch.setattr(services, "staff_account_ensure", explode)
    owner_changes()
    with (
        override_settings(TENANT_BASE_SCHEMA=False, TENANT_CREATION_FAKES_MIGRATIONS=False),
        pytest.raises(RuntimeError),
    ):
        provision(subdomain="shelbyville", name="Shelbyville Police Department")
    assert not schema_exists("shelbyville")


@pytest.mark.parametrize(
    "damage",
    [
        # A deploy added migrations the template has not had yet.
        "DELETE FROM \"department_template\".django_migrations WHERE app = 'account';"
        'DROP TABLE "department_template".account_emailconfirmation,'
        ' "department_template".account_emailaddress CASCADE',
        # Its first migration run failed: not even django_migrations exists.
        'DROP SCHEMA "department_template" CASCADE; CREATE SCHEMA "department_template"',
    ],
    ids=["outdated", "empty"],
)
def test_a_template_behind_the_migrations_is_migrated_before_it_is_cloned(damage):
    # The clone function was made for the migrations of an earlier deploy.
    as_owner(f"{damage}; COMMENT ON FUNCTION {CLONE_FUNCTION} IS 'an earlier deploy'")
    assert not template_schema_is_current()
    provision()
    assert template_schema_is_current()
    with schema_context("springfield"):
        assert get_user_model().objects.get().emailaddress_set.get().verified


def test_it_is_idempotent():
    first = provision()
    second = provision(primary_color="#b45309", welcome_en="Updated welcome")
    assert first.created and not second.created
    assert second.department.pk == first.department.pk
    assert not second.administrator_invited
    assert Department.objects.filter(schema_name="springfield").count() == 1
    assert Domain.objects.filter(domain="springfield.localhost").count() == 1
    department = Department.objects.get(schema_name="springfield")
    assert department.branding.primary_color == "#b45309"
    assert department.branding.welcome_en == "Updated welcome"
    with schema_context("springfield"):
        assert get_user_model().objects.count() == 1


def test_a_new_terms_text_gets_a_new_version():
    provision(terms_text="Version one")
    provision(terms_text="Version one")
    assert Department.objects.get(schema_name="springfield").program.terms_version == 1
    provision(terms_text="Version two")
    assert Department.objects.get(schema_name="springfield").program.terms_version == 2


def test_without_a_password_the_administrator_is_invited_to_choose_one(
    host_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = provision(administrator_password=None)
    assert result.administrator_invited
    with schema_context("springfield"):
        assert not get_user_model().objects.get().has_usable_password()
    (invitation,) = mail.outbox
    assert invitation.to == ["chief@springfield.example.org"]
    assert "Springfield Police Department" in invitation.subject
    link = re.search(r"http://springfield\.localhost\S+", invitation.body).group(0)

    client = host_client("springfield.localhost")
    form = client.get(urlsplit(link).path, follow=True)
    assert form.status_code == 200
    chosen = "my-own-chief-passphrase"
    client.post(form.redirect_chain[-1][0], {"password1": chosen, "password2": chosen})
    with schema_context("springfield"):
        assert get_user_model().objects.get().check_password(chosen)
    # The link works once.
    assert "invalid" in host_client("springfield.localhost").get(link, follow=True).content.decode()


def test_an_invited_administrator_whose_link_expired_can_ask_for_a_new_one(
    host_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        provision(administrator_password=None)
    mail.outbox = []
    client = host_client("springfield.localhost")
    client.post("/accounts/password/reset/", {"email": "chief@springfield.example.org"})
    (reset,) = mail.outbox
    assert reset.to == ["chief@springfield.example.org"]
    assert re.search(r"http://springfield\.localhost/accounts/password/reset/key/\S+", reset.body)


def test_an_invitation_is_not_sent_when_provisioning_fails(
    monkeypatch, django_capture_on_commit_callbacks
):
    from portal.department import services

    send = services.staff_invitation_send

    def send_then_fail(**kwargs):
        send(**kwargs)
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "staff_invitation_send", send_then_fail)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        provision(administrator_password=None)
    assert mail.outbox == []
    assert not schema_exists("springfield")


def test_a_hyphenated_subdomain_gets_an_underscored_schema(host_client):
    provision(subdomain="north-little-rock", name="North Little Rock Police Department")
    assert schema_exists("north_little_rock")
    page = host_client("north-little-rock.localhost").get("/")
    assert page.status_code == 200
