"""Deleting a department from the vendor console, for real: a department provisioned for this
module (never one of the session's cities), committed, because the schema is dropped by the
database owner's own connection. The schema goes (information_schema), its files go, its rows
go, the platform audit entry stays; a wrong confirmation or a running subscription changes
nothing; a second submit finds nothing to delete."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.test import Client
from PIL import Image

from billing.models import DevicePlan, Subscription
from console.models import PlatformAuditEntry
from tenants.database import database_owner
from tenants.models import Department, Domain
from tests.billing.plans import HUB_4
from tests.conftest import assert_test_database

SCRATCH = {
    "subdomain": "scratch-lifecycle",
    "name": "Scratch Lifecycle Police Department",
    "city": "Scratch",
    "state": "KS",
    "time_zone": "America/Chicago",
    "display_name": "Scratch Camera Registry",
    "center_latitude": 39.1,
    "center_longitude": -94.6,
    "service_radius_m": 10_000,
    "administrator_email": "chief@scratch.example.org",
    "administrator_password": "a-long-enough-passphrase",
}
SCHEMA = "scratch_lifecycle"


def schema_present(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [name])
        return cursor.fetchone() is not None


def logo() -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "#336699").save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name="scratch.png")


@pytest.fixture(scope="module")
def scratch(django_db_setup, django_db_blocker) -> Iterator[Department]:
    """The throwaway department, committed, with a logo and a private file; whatever the tests
    leave is removed at the end (the owner drops the schema if it is still there)."""
    from tenants.services import department_provision

    with django_db_blocker.unblock():
        assert_test_database()
        result = department_provision(**SCRATCH, logo=logo())
        storages["evidence"].save(f"{SCHEMA}/footage/1/clip.mp4", ContentFile(b"\x00" * 64))
        storages["evidence"].save(f"{SCHEMA}/imports/2/rows.csv", ContentFile(b"a,b\n"))
    yield result.department
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        Subscription.objects.filter(department__schema_name=SCHEMA).delete()
        DevicePlan.objects.filter(slug=HUB_4["slug"], subscriptions__isnull=True).delete()
        Domain.objects.filter(tenant__schema_name=SCHEMA).delete()
        Department.objects.filter(schema_name=SCHEMA).delete()
        with database_owner(), connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE')
        PlatformAuditEntry.objects.filter(department_schema=SCHEMA).delete()


@pytest.fixture
def console(django_db_blocker) -> Iterator[Client]:
    from tenants.demo import VENDOR_EMAIL, VENDOR_PASSWORD
    from tests.conftest import totp_now

    with django_db_blocker.unblock():
        client = Client(HTTP_HOST="localhost")
        client.post("/accounts/login/", {"login": VENDOR_EMAIL, "password": VENDOR_PASSWORD})
        client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
        yield client
        client.post("/accounts/logout/")


def page_of(department: Department) -> str:
    return f"/console/departments/{department.pk}/"


def test_delete_refusals_then_delete(scratch, console, django_db_blocker):
    with django_db_blocker.unblock():
        assert schema_present(SCHEMA)
        assert storages["evidence"].exists(f"{SCHEMA}/footage/1/clip.mp4")
        logo_name = Department.objects.get(schema_name=SCHEMA).branding.logo.name
        assert storages["default"].exists(logo_name)
        delete = page_of(scratch) + "delete/"

        # A confirmation that is not the subdomain, typed exactly: refused, nothing changed.
        for typed in ("", "scratch", "Scratch-Lifecycle", "scratch_lifecycle"):
            response = console.post(delete, {"confirmation": typed})
            assert response.status_code == 400
            assert "does not match the subdomain “scratch-lifecycle”" in response.content.decode()
        assert Department.objects.filter(schema_name=SCHEMA).exists()
        assert schema_present(SCHEMA)

        # A device subscription still running: refused with what to do, nothing changed.
        plan = DevicePlan.objects.create(**HUB_4)
        running = Subscription.objects.create(
            department=scratch,
            site_id=1,
            participant_id=1,
            site_address="1 Main St",
            plan=plan,
            status=Subscription.Status.ACTIVE,
            yearly_amount=15_000,
            currency="usd",
        )
        response = console.post(delete, {"confirmation": "scratch-lifecycle"})
        assert response.status_code == 400
        text = response.content.decode()
        assert "1 device subscription(s) still running" in text
        assert "Cancel them in the billing console first" in text
        assert schema_present(SCHEMA)
        # Once it ended, its record goes with the department (Stripe keeps the original).
        Subscription.objects.filter(pk=running.pk).update(status=Subscription.Status.CANCELED)

        response = console.post(delete, {"confirmation": " scratch-lifecycle "})
        assert response.status_code == 302
        assert response["Location"] == "/console/"
        assert not schema_present(SCHEMA)
        assert not Department.objects.filter(schema_name=SCHEMA).exists()
        assert not Domain.objects.filter(domain="scratch-lifecycle.localhost").exists()
        assert not Subscription.objects.filter(pk=running.pk).exists()
        assert not storages["evidence"].exists(f"{SCHEMA}/footage/1/clip.mp4")
        assert not storages["evidence"].exists(f"{SCHEMA}/imports/2/rows.csv")
        assert not storages["default"].exists(logo_name)
        entry = PlatformAuditEntry.objects.get(
            department_schema=SCHEMA, action=PlatformAuditEntry.Action.DEPARTMENT_DELETE
        )
        assert entry.department is None
        assert entry.department_name == "Scratch Lifecycle Police Department"
        assert entry.actor_email == "vendor@canvass.example.org"
        listing = console.get("/console/").content.decode()
        assert "Scratch Lifecycle Police Department is deleted" in listing
        assert "3 file(s) removed" in listing

        # A second submit of the same form: the department is gone.
        assert console.post(delete, {"confirmation": "scratch-lifecycle"}).status_code == 404
        assert console.get(page_of(scratch)).status_code == 404
        # The portal's address serves nothing any more.
        assert Client(HTTP_HOST="scratch-lifecycle.localhost").get("/").status_code == 404
