"""findings_by_month(start, end): findings recorded and resolved per month, for the
transparency page; months without any count zero; each city counts its own."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django_tenants.utils import schema_context

from portal.oversight.selectors import MonthFindings, findings_by_month
from portal.oversight.services import finding_record, finding_resolve
from portal.registry.audit import Actor, audit_record
from portal.registry.models import AuditEntry, StaffMember

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")


def test_findings_are_counted_by_month(overseer, admin):
    with schema_context("concord"):
        oversight = Actor.of_staff(StaffMember.objects.get(role="oversight"), None)
        administrator = Actor.of_staff(StaffMember.objects.get(user__email=admin.email), None)
        entry = audit_record(
            actor=administrator, action=AuditEntry.Action.EXPORT, reason="Registry export"
        )
        recorded = []
        for moment in ("2026-01-10", "2026-01-20", "2026-03-05"):
            with time_machine.travel(datetime.fromisoformat(moment).replace(tzinfo=UTC)):
                recorded.append(
                    finding_record(actor=oversight, entry_id=entry.pk, text="x", severity="concern")
                )
        with time_machine.travel(datetime(2026, 3, 9, tzinfo=UTC)):
            finding_resolve(actor=administrator, finding_id=recorded[0].pk, resolution="y")
        # Outside the range asked: counted in neither month.
        with time_machine.travel(datetime(2026, 5, 1, 12, tzinfo=UTC)):
            finding_record(actor=oversight, entry_id=entry.pk, text="z", severity="concern")
        months = findings_by_month(date(2026, 1, 15), date(2026, 4, 2))
    assert months == [
        MonthFindings(date(2026, 1, 1), recorded=2, resolved=0),
        MonthFindings(date(2026, 2, 1), recorded=0, resolved=0),
        MonthFindings(date(2026, 3, 1), recorded=1, resolved=1),
        MonthFindings(date(2026, 4, 1), recorded=0, resolved=0),
    ]
    with schema_context("carrollton"):
        assert findings_by_month(date(2026, 1, 1), date(2026, 3, 31)) == [
            MonthFindings(date(2026, month, 1), 0, 0) for month in (1, 2, 3)
        ]


def test_a_range_that_ends_before_it_starts_is_empty():
    with schema_context("concord"):
        assert findings_by_month(date(2026, 5, 1), date(2026, 4, 1)) == []
