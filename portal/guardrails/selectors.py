"""Reads of the guardrails: the requests waiting for a staff member's decision, and the
exceptions and changes by month that the transparency page publishes."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncMonth

from portal.guardrails.models import ApprovalRequest
from portal.guardrails.services import may_decide
from portal.registry.models import AuditEntry, StaffMember


def approvals_waiting_for(staff: StaffMember) -> list[ApprovalRequest]:
    """The pending requests this staff member may decide (never their own), oldest first."""
    pending = (
        ApprovalRequest.objects.filter(status=ApprovalRequest.Status.PENDING)
        .exclude(requested_by=staff)
        .select_related("requested_by__user", "incident", "camera")
        .order_by("created_at")
    )
    return [approval for approval in pending if may_decide(staff, approval)]


def approvals_of(staff: StaffMember) -> QuerySet[ApprovalRequest]:
    """The requests this staff member made, newest first."""
    return ApprovalRequest.objects.filter(requested_by=staff).select_related("incident", "camera")[
        :50
    ]


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _by_month(action: str, start: date, end: date) -> list[tuple[date, int]]:
    counted = {
        row["month"].date(): row["count"]
        for row in AuditEntry.objects.filter(action=action, at__date__gte=start, at__date__lte=end)
        .annotate(month=TruncMonth("at"))
        .values("month")
        .annotate(count=Count("pk"))
    }
    return [(month, counted.get(month, 0)) for month in _months(start, end)]


def guardrail_exceptions_by_month(start: date, end: date) -> list[tuple[date, int]]:
    """Emergency overrides approved in the current city, per month from `start`'s month to
    `end`'s (both days included, in the current time zone): [(first day of month, count)],
    every month present (0 when none). Read from the audit trail (GUARDRAIL_EXCEPTION)."""
    return _by_month(AuditEntry.Action.GUARDRAIL_EXCEPTION, start, end)


def guardrail_changes_by_month(start: date, end: date) -> list[tuple[date, int]]:
    """Changes to the guardrails (GUARDRAIL_CHANGE), counted like the exceptions."""
    return _by_month(AuditEntry.Action.GUARDRAIL_CHANGE, start, end)


def guardrail_exceptions_between(start: datetime, end: datetime) -> int:
    """Emergency overrides in [start, end), for the transparency page's provider."""
    return AuditEntry.objects.filter(
        action=AuditEntry.Action.GUARDRAIL_EXCEPTION, at__gte=start, at__lt=end
    ).count()


def guardrail_changes_between(start: datetime, end: datetime) -> int:
    """Changes to the guardrails in [start, end), for the transparency page's provider."""
    return AuditEntry.objects.filter(
        action=AuditEntry.Action.GUARDRAIL_CHANGE, at__gte=start, at__lt=end
    ).count()
