"""Audit entries are numbered per city: a finding or flag posted on one city's host about an
entry id that exists only in another city is refused, and the same id in two cities names
each city's own entry."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from portal.oversight.models import Finding, Flag
from portal.registry.audit import Actor, audit_record
from portal.registry.models import AuditEntry
from tenants.database import database_owner

pytestmark = pytest.mark.django_db


def entries(schema_name: str, count: int) -> list[int]:
    with schema_context(schema_name):
        for number in range(count):
            audit_record(
                actor=Actor(f"x@{schema_name}.example.org", "investigator"),
                action=AuditEntry.Action.EXPORT,
                reason=f"Registry export {number}",
            )
        return list(AuditEntry.objects.order_by("pk").values_list("pk", flat=True))


def aligned_entries(count: int) -> list[int]:
    """The same entry ids in Concord and Carrollton: both sequences set past either city's
    numbers (only the owner may set a sequence), then `count` entries written in each."""
    with database_owner(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT greatest((SELECT coalesce(max(id), 0) FROM concord.registry_auditentry),"
            " (SELECT coalesce(max(id), 0) FROM carrollton.registry_auditentry)) + 100"
        )
        (first_id,) = cursor.fetchone()
        for schema_name in ("concord", "carrollton"):
            cursor.execute(
                f"SELECT setval('\"{schema_name}\".registry_auditentry_id_seq', %s, false)",
                [first_id],
            )
    return sorted(set(entries("concord", count)) & set(entries("carrollton", count)))


def test_an_entry_that_exists_only_in_another_city_is_refused(overseer):
    concord_ids = set(entries("concord", 1))
    carrollton_ids = set(entries("carrollton", len(concord_ids) + 20))
    foreign = max(carrollton_ids - concord_ids)
    response = overseer.client.post(
        f"/department/oversight/entries/{foreign}/findings/",
        {"text": "Wrong city.", "severity": "concern"},
    )
    assert response.status_code == 404
    assert f"There is no audit entry {foreign}" in response.content.decode()
    response = overseer.client.post(f"/department/oversight/entries/{foreign}/flag/", {})
    assert response.status_code == 404
    assert overseer.client.get(f"/department/oversight/entries/{foreign}/").status_code == 404
    for schema_name in ("concord", "carrollton"):
        with schema_context(schema_name):
            assert not Finding.objects.exists() and not Flag.objects.exists()
            assert not AuditEntry.objects.filter(action__startswith="oversight_").exists()


def test_the_same_entry_id_in_two_cities_names_each_citys_own(overseer, make_staff):
    carrollton_overseer = make_staff("carrollton", "oversight", email="audit@crt.example.org")
    shared = aligned_entries(3)
    assert len(shared) == 3
    entry_id = shared[-1]
    overseer.client.post(
        f"/department/oversight/entries/{entry_id}/findings/",
        {"text": "Concord's finding.", "severity": "observation"},
    )
    carrollton_overseer.client.post(
        f"/department/oversight/entries/{entry_id}/findings/",
        {"text": "Carrollton's finding.", "severity": "violation"},
    )
    with schema_context("concord"):
        assert list(Finding.objects.values_list("entry_id", "text")) == [
            (entry_id, "Concord's finding.")
        ]
    with schema_context("carrollton"):
        assert list(Finding.objects.values_list("entry_id", "text")) == [
            (entry_id, "Carrollton's finding.")
        ]
    page = overseer.client.get("/department/oversight/findings/").content.decode()
    assert "Concord&#x27;s finding." in page and "Carrollton" not in page


def test_a_finding_cannot_be_resolved_from_another_city(overseer, make_staff):
    carrollton_admin = make_staff("carrollton", "administrator", email="boss@crt.example.org")
    entry_id = entries("concord", 1)[-1]
    overseer.client.post(
        f"/department/oversight/entries/{entry_id}/findings/",
        {"text": "Odd.", "severity": "concern"},
    )
    with schema_context("concord"):
        finding = Finding.objects.get()
    with schema_context("carrollton"):
        assert not Finding.objects.filter(pk=finding.pk).exists()
    response = carrollton_admin.client.post(
        f"/department/oversight/findings/{finding.pk}/resolve/", {"resolution": "Done."}
    )
    assert response.status_code == 404
    with schema_context("concord"):
        assert Finding.objects.get().resolved_at is None
