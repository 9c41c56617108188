"""Provisioning creates a whole department in one call, by cloning, and can be repeated."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context, schema_exists

from tenants.models import Department, Domain
from tenants.services import department_provision, template_schema_is_current
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
    assert any(sql.startswith("SELECT clone_schema(") for sql in statements)
    assert not [sql for sql in statements if sql.upper().startswith("CREATE TABLE")]


def test_it_migrates_when_no_template_exists():
    with connection.cursor() as cursor:
        cursor.execute('DROP SCHEMA "department_template" CASCADE')
    with CaptureQueriesContext(connection) as queries:
        provision()
    statements = [query["sql"].lstrip() for query in queries.captured_queries]
    assert not any(sql.startswith("SELECT clone_schema(") for sql in statements)
    assert [sql for sql in statements if sql.upper().startswith("CREATE TABLE")]
    with schema_context("springfield"):
        assert get_user_model().objects.count() == 1


def test_it_migrates_when_cloning_is_switched_off():
    with override_settings(TENANT_BASE_SCHEMA=False, TENANT_CREATION_FAKES_MIGRATIONS=False):
        provision(subdomain="shelbyville", name="Shelbyville Police Department")
    with schema_context("shelbyville"):
        assert get_user_model().objects.count() == 1


def test_an_outdated_template_is_migrated_before_it_is_cloned():
    with schema_context("department_template"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'account'")
        cursor.execute("DROP TABLE account_emailconfirmation, account_emailaddress CASCADE")
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
    assert second.administrator_password is None
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


def test_without_a_password_it_generates_one_for_the_administrator(host_client):
    result = provision(administrator_password=None)
    assert result.administrator_password
    assert len(result.administrator_password) >= 16
    client = host_client("springfield.localhost")
    client.post(
        "/accounts/login/",
        {"login": "chief@springfield.example.org", "password": result.administrator_password},
    )
    assert "_auth_user_id" in client.session


def test_a_hyphenated_subdomain_gets_an_underscored_schema(host_client):
    provision(subdomain="north-little-rock", name="North Little Rock Police Department")
    assert schema_exists("north_little_rock")
    page = host_client("north-little-rock.localhost").get("/")
    assert page.status_code == 200
