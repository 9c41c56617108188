# ruff: noqa: F811
# (the integrity tests' riverside fixture, imported, is each test's argument)
"""A report states the audit hash chain's verification: the scheduled check's result, kept
and reused while it is recent and covers the report's entries, or the check run for the
report; a broken chain shows as broken, at its entry."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.council_reports.figures import report_figures
from portal.council_reports.models import ChainCheck
from portal.registry.tasks import audit_verify
from tenants.models import Department
from tests.registry.test_audit_trail_integrity import (  # noqa: F401 (fixtures)
    _riverside_removed_at_the_end,
    as_owner_in_riverside,
    riverside,
)

pytestmark = pytest.mark.django_db


def figures(schema_name: str, end: date | None = None) -> dict:
    # Riverside was made without a program: Concord's labels serve.
    program = Department.objects.get(schema_name="concord").program
    with schema_context(schema_name):
        today = timezone.localdate()
        return report_figures(
            program=program, start=today - timedelta(days=30), end=end or today, now=timezone.now()
        )


def test_the_scheduled_checks_result_is_kept_and_reused(riverside):
    with schema_context("riverside"):
        audit_verify()
        [kept] = ChainCheck.objects.all()
    assert kept.entries == len(riverside) and kept.broken_at is None
    assert kept.last_entry_id == riverside[-1]
    chain = figures("riverside")["audit"]["chain"]
    assert chain == {
        "checked_at": kept.checked_at.isoformat(),
        "entries_checked": len(riverside),
        "intact": True,
        "broken_at": None,
        "earlier_check": None,
    }
    with schema_context("riverside"):
        assert ChainCheck.objects.count() == 1


def test_without_a_recent_check_the_report_runs_one(riverside):
    as_owner_in_riverside(
        "UPDATE registry_auditentry SET reason = 'Routine check' WHERE id = %s", [riverside[2]]
    )
    chain = figures("riverside")["audit"]["chain"]
    assert chain["intact"] is False and chain["broken_at"] == riverside[2]
    with schema_context("riverside"):
        assert ChainCheck.objects.get().broken_at == riverside[2]


def test_a_later_check_reads_only_the_entries_after_the_last_intact_one(riverside):
    from tenants.database import database_owner
    from tests.registry.test_audit_trail_integrity import entry

    with schema_context("riverside"):
        audit_verify()
        kept = ChainCheck.objects.get()
        ChainCheck.objects.filter(pk=kept.pk).update(checked_at=timezone.now() - timedelta(days=2))
    # Written and committed on their own connection, as the fixture's: the owner's changes
    # below must not wait for this test's transaction.
    with database_owner(), schema_context("riverside"):
        added = [entry(reason=f"Later {n}").pk for n in range(3)]
    chain = figures("riverside")["audit"]["chain"]
    assert chain["intact"] is True and chain["entries_checked"] == len(riverside) + 3
    assert chain["earlier_check"]["last_entry_id"] == riverside[-1]
    with schema_context("riverside"):
        latest = ChainCheck.objects.first()
        assert latest.after_id == kept.pk and latest.last_entry_id == added[-1]
    # A change after the earlier check is found by the shorter walk.
    as_owner_in_riverside(
        "UPDATE registry_auditentry SET reason = 'Routine check' WHERE id = %s", [added[1]]
    )
    with schema_context("riverside"):
        ChainCheck.objects.filter(after__isnull=False).delete()
    assert figures("riverside")["audit"]["chain"]["broken_at"] == added[1]


def test_a_rewritten_anchor_makes_the_check_walk_the_whole_chain(riverside):
    with schema_context("riverside"):
        audit_verify()
        ChainCheck.objects.update(checked_at=timezone.now() - timedelta(days=2))
    # The owner rewrote an early entry and rehashed from there: the anchor's hash changed.
    as_owner_in_riverside(
        "UPDATE registry_auditentry SET reason = 'Routine check', hash = repeat('a', 64)"
        " WHERE id = %s",
        [riverside[-1]],
    )
    chain = figures("riverside")["audit"]["chain"]
    assert chain["intact"] is False and chain["broken_at"] == riverside[-1]
    assert chain["earlier_check"] is None
