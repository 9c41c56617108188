"""What is read of owners' notices: the delays counted per month (the transparency page), the
entries an owner may not see yet (held for an open investigation), a case's delay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from portal.access_notices.models import (
    AccessNotice,
    InvestigationClosure,
    InvestigationDelay,
    NoticePreference,
)
from portal.department.models import Incident
from portal.registry.models import AuditEntry, Participant
from tenants.models import current_department


@dataclass(frozen=True)
class MonthDelays:
    """One month of the department's delays: how many cases had their owners' notices delayed
    (by the month the delay was set), and how many notices were held by a delay (by the month
    of the access), in the department's time zone."""

    month: date
    delays: int
    notices_delayed: int


def _months(start: date, end: date) -> list[date]:
    months, month = [], date(start.year, start.month, 1)
    while month <= end:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def access_notice_delays_by_month(start: date, end: date) -> list[MonthDelays]:
    """Every month from `start`'s to `end`'s (both included), zeros included, in the current
    department's schema. Nothing in it names a case, an owner or a staff member."""
    zone = current_department().zone
    delays = dict(
        InvestigationDelay.objects.annotate(month=TruncMonth("set_at", tzinfo=zone))
        .values("month")
        .annotate(count=Count("pk"))
        .values_list("month", "count")
    )
    held = dict(
        AccessNotice.objects.filter(delay__isnull=False)
        .annotate(month=TruncMonth("accessed_at", tzinfo=zone))
        .values("month")
        .annotate(count=Count("pk"))
        .values_list("month", "count")
    )

    def by_day(counts: dict[datetime, int]) -> dict[date, int]:
        return {moment.astimezone(zone).date(): count for moment, count in counts.items()}

    delays_by, held_by = by_day(delays), by_day(held)
    return [
        MonthDelays(month, delays_by.get(month, 0), held_by.get(month, 0))
        for month in _months(start, end)
    ]


def held_entries(participant: Participant, now: datetime | None = None) -> QuerySet[AuditEntry]:
    """The entries about the owner that a delay still holds back: of an incident whose delay
    holds (a live view, which names only its case, of a case whose incident's delay holds),
    and not yet told to the owner. The owner's access page leaves them out until then."""
    now = now or timezone.now()
    holding = InvestigationDelay.objects.holding(now)
    told = AccessNotice.objects.filter(
        participant=participant, status=AccessNotice.Status.SENT
    ).values("audit_entry_id")
    return (
        AuditEntry.objects.filter(participant_id=participant.pk)
        .filter(
            Q(incident_id__in=holding.values("incident_id"))
            | Q(
                incident_id__isnull=True,
                case_number__in=holding.values("incident__case_number"),
            )
        )
        .exclude(pk__in=told)
    )


def frequency_of(participant: Participant) -> str:
    preference = NoticePreference.objects.filter(participant=participant).first()
    return preference.frequency if preference else NoticePreference.Frequency.AT_ONCE


@dataclass(frozen=True)
class CaseNotices:
    """What the incident page shows of its owners' notices."""

    delay: InvestigationDelay | None
    closure: InvestigationClosure | None
    held: int


def case_notices(incident: Incident) -> CaseNotices:
    delay = InvestigationDelay.objects.filter(incident=incident).first()
    return CaseNotices(
        delay=delay,
        closure=InvestigationClosure.objects.filter(incident=incident).first(),
        held=AccessNotice.objects.filter(
            Q(incident_id=incident.pk, status=AccessNotice.Status.PENDING, delay__isnull=False)
            & Q(due_at__gt=timezone.now())
        ).count(),
    )


def notice_delays_between(start: datetime, end: datetime) -> int:
    """Investigations whose owners' notices were delayed, by when the delay was set, in
    [start, end), for the transparency page's provider."""
    return InvestigationDelay.objects.filter(set_at__gte=start, set_at__lt=end).count()
