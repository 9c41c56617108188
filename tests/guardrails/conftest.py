"""The guardrails' test world: Concord's guardrails set directly (their page is tested on its
own), an owner's site, an incident, staff, and a shared camera for live views."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from portal.department.models import Incident
from portal.guardrails.models import ApprovalRequest, Guardrails
from portal.registry.models import AuditEntry, Site


def guardrails_set(schema_name: str = "concord", **values: Any) -> None:
    """Set guardrails as an administrator's save would leave them (dated now)."""
    with schema_context(schema_name):
        Guardrails.objects.update_or_create(pk=1, defaults={"updated_at": timezone.now(), **values})


def entries(schema_name: str = "concord", **filters: Any) -> list[AuditEntry]:
    with schema_context(schema_name):
        return list(AuditEntry.objects.filter(**filters).order_by("pk"))


def approvals(schema_name: str = "concord", **filters: Any) -> list[ApprovalRequest]:
    with schema_context(schema_name):
        return list(ApprovalRequest.objects.filter(**filters).order_by("pk"))


@pytest.fixture
def site(make_resident, site_data) -> Site:
    """Alice Moreno's site in Concord."""
    resident = make_resident("concord")
    resident.client.post("/register/", site_data(contact_name="Alice Moreno"))
    with schema_context("concord"):
        return Site.objects.select_related("participant").get()


@pytest.fixture
def incident(site: Site) -> Incident:
    with schema_context("concord"):
        return Incident.objects.create(
            kind="crime",
            category="burglary",
            case_number="CPD-2026-0777",
            latitude=site.latitude,
            longitude=site.longitude,
            starts_at="2026-11-20T21:00Z",
            ends_at="2026-11-20T22:00Z",
            radius_m=300,
            opened_by=site.participant.user,
        )


@pytest.fixture
def reveal_url(site: Site, incident: Incident) -> str:
    return f"/department/incidents/{incident.pk}/sites/{site.pk}/reveal/"


@pytest.fixture
def second_investigator(make_staff: Callable[..., Any]) -> Any:
    return make_staff("concord", "investigator", email="second@concord.example.org")


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Services answer in the language of the thread, which a request before may have left
    Spanish: each test starts in English."""
    with translation.override("en"):
        yield
