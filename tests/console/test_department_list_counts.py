"""The vendor console's department list shows each department's status and its numbers of
sites and paired devices, read from every schema in one statement (issue 12, item 7)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from console.selectors import department_counts, department_facts
from portal.liveview.models import Device
from portal.registry.models import Site
from portal.registry.services import participant_create, site_register
from tenants.models import Department

pytestmark = pytest.mark.django_db


def sites_registered(city: str, how_many: int) -> list[Site]:
    department = Department.objects.select_related("program").get(schema_name=city)
    program = department.program
    sites = []
    with schema_context(city):
        email = f"counted.{city}@example.org"
        user = get_user_model().objects.create_user(username=email, email=email, password="x")
        participant = participant_create(user=user)
        for number in range(how_many):
            sites.append(
                site_register(
                    participant=participant,
                    program=program,
                    site={
                        "kind": "home",
                        "address": f"{number + 1} Counted Way",
                        "latitude": program.center_latitude,
                        "longitude": program.center_longitude,
                        "contact_name": "Cora Count",
                        "contact_phone": "+17045550161",
                        "contact_email": email,
                        "contact_method": "phone",
                        "contact_hours": "",
                    },
                    cameras=[],
                    language="en",
                )
            )
        # Both cities' sites get the same ids, whatever earlier tests made: they collide on
        # purpose (no cameras or devices refer to them yet).
        for number, site in enumerate(sites, start=1):
            Site.objects.filter(pk=site.pk).update(id=900_000 + number)
            site.pk = site.id = 900_000 + number
    return sites


def device_paired(city: str, site: Site, *, revoked: bool = False) -> None:
    with schema_context(city):
        Device.objects.create(
            site=site,
            credential_id=f"{city}-{site.pk}-{revoked}",
            credential_hash="not-a-real-hash",
            revoked_at=timezone.now() if revoked else None,
        )


def listed_row(page: str, name: str) -> str:
    row = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{re.escape(name)}</a>.*?</tr>", page, re.S)
    assert row, f"{name} is not listed"
    return row.group(0)


def cell(row: str, label: str) -> str:
    found = re.search(rf'data-label="{label}"[^>]*>(.*?)</td>', row, re.S)
    assert found, f"no {label} cell"
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_each_department_shows_its_own_sites_and_devices(platform_client, vendor, sign_in):
    concord_sites = sites_registered("concord", 3)
    carrollton_sites = sites_registered("carrollton", 1)
    device_paired("concord", concord_sites[0])
    device_paired("concord", concord_sites[1], revoked=True)  # revoked: not counted
    device_paired("carrollton", carrollton_sites[0])
    # Each schema numbers its sites itself: the same ids exist in both cities, and each
    # department still gets only its own rows.
    with schema_context("concord"):
        concord_ids = set(Site.objects.values_list("pk", flat=True))
    with schema_context("carrollton"):
        carrollton_ids = set(Site.objects.values_list("pk", flat=True))
    assert concord_ids & carrollton_ids

    assert sign_in(platform_client, vendor).status_code == 302
    page = platform_client.get("/console/").content.decode()
    for name, city, sites in (
        ("Concord Police Department", "concord", len(concord_ids)),
        ("Carrollton Police Department", "carrollton", len(carrollton_ids)),
    ):
        facts = department_facts(Department.objects.get(schema_name=city))
        row = listed_row(page, name)
        assert cell(row, "Sites") == str(sites) == str(facts.sites)
        assert cell(row, "Devices") == str(facts.devices)
        assert cell(row, "Status") == "Active"
    with schema_context("concord"):
        concord_devices = Device.objects.filter(revoked_at__isnull=True).count()
    assert cell(listed_row(page, "Concord Police Department"), "Devices") == str(concord_devices)
    assert len(concord_ids) != len(carrollton_ids)


def test_the_counts_take_one_statement_for_every_schema():
    departments = list(Department.objects.cities())
    assert len(departments) >= 3
    with CaptureQueriesContext(connection) as queries:
        counts = department_counts(departments)
    # One look-up of the schemas that exist, one statement over all of them.
    assert len(queries.captured_queries) == 2
    for department in departments:
        facts = department_facts(department)
        assert (counts[department.pk].sites, counts[department.pk].devices) == (
            facts.sites,
            facts.devices,
        )


def test_a_department_without_a_schema_counts_zero():
    concord = Department.objects.get(schema_name="concord")
    missing = Department(pk=10**9, schema_name="no_such_schema", status=Department.Status.ACTIVE)
    provisioning = Department(
        pk=10**9 + 1, schema_name="concord", status=Department.Status.PROVISIONING
    )
    counts = department_counts([concord, missing, provisioning])
    assert (counts[missing.pk].sites, counts[missing.pk].devices) == (0, 0)
    assert (counts[provisioning.pk].sites, counts[provisioning.pk].devices) == (0, 0)
    assert counts[concord.pk].sites == department_facts(concord).sites


def test_a_suspended_department_says_so(platform_client, vendor, sign_in):
    Department.objects.filter(schema_name="carrollton").update(status=Department.Status.SUSPENDED)
    assert sign_in(platform_client, vendor).status_code == 302
    page = platform_client.get("/console/").content.decode()
    assert cell(listed_row(page, "Carrollton Police Department"), "Status") == "Suspended"


def test_many_departments_are_counted_in_batches(monkeypatch):
    import console.selectors

    real = list(Department.objects.cities())
    monkeypatch.setattr(console.selectors, "COUNTS_BATCH", 2)
    # Five departments over the real schemas (ids made up): three statements of two or one.
    many = [
        Department(pk=10**9 + n, schema_name=real[n % len(real)].schema_name, status="active")
        for n in range(5)
    ]
    with CaptureQueriesContext(connection) as queries:
        counts = department_counts(many)
    assert len(queries.captured_queries) == 1 + 3
    for n, department in enumerate(many):
        assert counts[department.pk].sites == department_facts(real[n % len(real)]).sites
