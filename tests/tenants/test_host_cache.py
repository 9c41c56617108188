"""The host lookup's cache per process (tenants.middleware.department_for_host): pages find
their department without a query, a suspension closes the portal at once in the process that
made it and within the bound elsewhere, and two cities never get each other's department."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from console import lifecycle
from tenants import middleware
from tenants.demo import VENDOR_EMAIL
from tenants.models import Department

pytestmark = pytest.mark.django_db


class Clock:
    """time.monotonic as the cache reads it, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(middleware.time, "monotonic", clock)
    middleware._stamp["checked_at"] = float("-inf")
    return clock


def domain_reads(client, host: str) -> tuple[int, int]:
    """(status, queries that read the domains) of the host's landing page."""
    with CaptureQueriesContext(connection) as queries:
        status = client.get("/", HTTP_HOST=host).status_code
    return status, sum('FROM "tenants_domain"' in q["sql"] for q in queries.captured_queries)


def test_the_landing_page_finds_its_department_without_a_query(concord_client, clock):
    assert domain_reads(concord_client, "concord.localhost") == (200, 1)
    clock.now += 2
    assert domain_reads(concord_client, "concord.localhost") == (200, 0)
    clock.now += middleware.HOST_CACHE_SECONDS
    assert domain_reads(concord_client, "concord.localhost") == (200, 1)


def test_a_suspension_closes_the_portal_at_once(concord_client, clock):
    assert concord_client.get("/").status_code == 200
    with schema_context("public"):
        vendor = get_user_model().objects.get(email=VENDOR_EMAIL)
    lifecycle.department_suspend(
        actor=vendor,
        department=Department.objects.get(schema_name="concord"),
        reason="License unpaid since March",
    )
    assert concord_client.get("/").status_code == 503


def status_set_elsewhere(status: str) -> None:
    """The department's status changed by another process: this one hears nothing of it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE public.tenants_department SET status = %s WHERE schema_name = 'concord'",
            [status],
        )


def test_a_suspension_elsewhere_is_seen_within_the_bound(concord_client, clock):
    """Another process suspended the city: its stamp reaches this one within a second; without
    the stamp (no shared cache between them), within the cache's time."""
    assert concord_client.get("/").status_code == 200
    status_set_elsewhere(Department.Status.SUSPENDED)
    assert concord_client.get("/").status_code == 200  # kept, as the trade-off allows
    with schema_context("public"):
        cache.set(middleware.HOST_STAMP_KEY, "another process's change")
    clock.now += middleware.HOST_STAMP_CHECK_SECONDS
    assert concord_client.get("/").status_code == 503

    status_set_elsewhere(Department.Status.ACTIVE)
    assert concord_client.get("/").status_code == 503  # kept: nothing said it changed
    clock.now += middleware.HOST_CACHE_SECONDS
    assert concord_client.get("/").status_code == 200


def test_two_cities_never_get_each_others_department(host_client, clock):
    concord, carrollton = host_client("concord.localhost"), host_client("carrollton.localhost")
    for _ in range(3):
        for client, schema in ((concord, "concord"), (carrollton, "carrollton")):
            for host in (f"{schema}.localhost", f"{schema.upper()}.LOCALHOST"):
                response = client.get("/", HTTP_HOST=host)
                assert response.status_code == 200
                assert response.wsgi_request.tenant.schema_name == schema
    assert set(middleware._hosts) == {"concord.localhost", "carrollton.localhost"}
    assert host_client("nowhere.localhost").get("/").status_code == 404
    assert "nowhere.localhost" not in middleware._hosts


def test_an_update_in_bulk_is_seen_at_once(concord_client, clock):
    assert concord_client.get("/").status_code == 200
    Department.objects.filter(schema_name="concord").update(status=Department.Status.SUSPENDED)
    assert concord_client.get("/").status_code == 503


def test_each_request_gets_its_own_copy_of_the_department(concord_client, clock):
    first = concord_client.get("/").wsgi_request.tenant
    first.program.search_radius_max_m = 1
    first.branding.display_name = "Someone else's city"
    second = concord_client.get("/").wsgi_request.tenant
    assert second is not first
    assert second.program.search_radius_max_m != 1
    assert second.branding.display_name != "Someone else's city"
    # The branding and the programme lead back to the request's own copy, not to the kept one.
    assert second.branding.department is second
    assert second.program.department is second
