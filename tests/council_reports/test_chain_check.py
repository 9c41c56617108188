# ruff: noqa: F811 (the integrity tests' riverside fixture, imported, is each test's argument)
"""A council report's check of the audit hash chain, in one query, gives the registry walk's
verdict: intact, or broken at the same entry, for each way the owner could tamper; a report
shows the verdict, and reuses a recent one that covers its entries."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.registry.audit_chain import audit_chain_verify, audit_chain_verify_fast
from tests.registry.test_audit_trail_integrity import (  # noqa: F401 (fixtures)
    _riverside_removed_at_the_end,
    as_owner_in_riverside,
    riverside,
)

pytestmark = pytest.mark.django_db


def both() -> tuple[object, object]:
    with schema_context("riverside"):
        return audit_chain_verify_fast(), audit_chain_verify()


def test_an_intact_trail_is_intact_both_ways(riverside):
    fast, walk = both()
    assert fast == walk and fast.broken_at is None and fast.entries == len(riverside)


def test_a_changed_entry_is_found_at_that_entry(riverside):
    as_owner_in_riverside(
        "UPDATE registry_auditentry SET reason = 'Routine check' WHERE id = %s", [riverside[2]]
    )
    fast, walk = both()
    assert fast == walk and fast.broken_at == riverside[2]


def test_a_removed_entry_is_found_at_the_next_one(riverside):
    as_owner_in_riverside("DELETE FROM registry_auditentry WHERE id = %s", [riverside[1]])
    fast, walk = both()
    assert fast == walk and fast.broken_at == riverside[2]


def test_a_planted_entry_is_found(riverside):
    as_owner_in_riverside(
        "INSERT INTO registry_auditentry (id, at, actor_email, actor_role, action, case_number,"
        " reason, prev_hash, hash) SELECT 1000, now(), 'x@y.org', 'investigator', 'reveal', '',"
        " 'planted', hash, hash FROM registry_auditentry WHERE id = %s",
        [riverside[3]],
    )
    fast, walk = both()
    assert fast == walk and fast.broken_at == 1000


def test_a_broken_chain_shows_in_the_report(riverside):
    from datetime import date

    from django.utils import timezone

    from portal.council_reports.figures import report_figures
    from tenants.models import Department

    as_owner_in_riverside(
        "UPDATE registry_auditentry SET reason = 'Routine check' WHERE id = %s", [riverside[2]]
    )
    with schema_context("riverside"):
        # Riverside was made without a program: Concord's labels do.
        program = Department.objects.get(schema_name="concord").program
        today = timezone.localdate()
        figures = report_figures(
            program=program, start=date(today.year, 1, 1), end=today, now=timezone.now()
        )
    assert figures["audit"]["chain"]["intact"] is False
    assert figures["audit"]["chain"]["broken_at"] == riverside[2]
