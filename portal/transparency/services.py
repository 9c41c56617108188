"""The transparency page's writes: the monthly figures computed from the records (the scheduled
job), the audit chain's checks as they happen, and the department's published texts."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from portal.department.models import Notification, NotificationRecipient
from portal.liveview.models import Device, Grant
from portal.liveview.selectors import grant_open_duration
from portal.registry.audit_chain import Verdict
from portal.registry.models import AuditEntry, OptOut, Site, confirmed_condition
from portal.transparency import providers
from portal.transparency.areas import AreaFinder
from portal.transparency.models import ChainCheck, MonthComputed, MonthlyFigure, Policy
from tenants.models import Department

MONTHS = 12

# The metrics counted from audit entries, by the entry's reason category.
AUDITED_METRICS = {
    "reveals": AuditEntry.Action.REVEAL,
    "footage_requests": AuditEntry.Action.FOOTAGE_REQUEST,
    "area_notices": AuditEntry.Action.NOTIFY,
}
# Area notices' owners: reached (the email went out), who answered, who said they have footage.
RECIPIENT_METRICS = {
    "owners_reached": Q(),
    "owners_answered": ~Q(answer=""),
    "owners_with_footage": Q(answer=NotificationRecipient.Answer.HAS_FOOTAGE),
}
# Counts of the city as it is now, by area.
AREA_METRICS = ("sites", "devices")


@dataclass(frozen=True)
class Month:
    first_day: date
    start: datetime
    end: datetime


def months_until(now: datetime, zone: Any, count: int = MONTHS) -> list[Month]:
    """The `count` calendar months (in the city's time zone) ending with the current one."""
    local = now.astimezone(zone)
    year, month = local.year, local.month
    firsts = []
    for _ in range(count):
        firsts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    firsts.reverse()
    result = []
    for index, first in enumerate(firsts):
        following = (
            firsts[index + 1]
            if index + 1 < len(firsts)
            else date(first.year + first.month // 12, first.month % 12 + 1, 1)
        )
        result.append(
            Month(
                first,
                datetime(first.year, first.month, 1, tzinfo=zone),
                datetime(following.year, following.month, 1, tzinfo=zone),
            )
        )
    return result


def _month_key(value: datetime | date, zone: Any) -> date:
    if isinstance(value, datetime):
        value = value.astimezone(zone)
    return date(value.year, value.month, 1)


def _month_figures(months: list[Month], zone: Any, now: datetime) -> Counter:
    """Every monthly metric of `months` as {(month, metric, category): value}."""
    start, end = months[0].start, months[-1].end
    figures: Counter = Counter()
    trunc = TruncMonth("at", tzinfo=zone)
    for metric, action in AUDITED_METRICS.items():
        rows = (
            AuditEntry.objects.filter(action=action, at__gte=start, at__lt=end)
            .annotate(month=trunc)
            .values("month", "category")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            figures[_month_key(row["month"], zone), metric, row["category"]] += row["n"]
    recipients = NotificationRecipient.objects.filter(
        notification__kind=Notification.Kind.AREA,
        notification__created_at__gte=start,
        notification__created_at__lt=end,
        sent_at__isnull=False,
    )
    recipient_rows = (
        recipients.annotate(month=TruncMonth("notification__created_at", tzinfo=zone))
        .values("month", "notification__incident__category")
        .annotate(
            **{metric: Count("id", filter=cond) for metric, cond in RECIPIENT_METRICS.items()}
        )
        .order_by()
    )
    for row in recipient_rows:
        for metric in RECIPIENT_METRICS:
            key = (_month_key(row["month"], zone), metric, row["notification__incident__category"])
            figures[key] += row[metric]
    duration = grant_open_duration(now)
    grant_rows = (
        Grant.objects.filter(opened_at__gte=start, opened_at__lt=end)
        .annotate(month=TruncMonth("opened_at", tzinfo=zone), lasted=duration)
        .values("month", "reason", "emergency")
        .annotate(n=Count("id"), seconds=Sum("lasted"))
        .order_by()
    )
    for row in grant_rows:
        kind = "emergency" if row["emergency"] else "other"
        first_day = _month_key(row["month"], zone)
        figures[first_day, f"live_views_{kind}", row["reason"]] += row["n"]
        seconds = row["seconds"].total_seconds() if row["seconds"] else 0
        figures[first_day, f"live_seconds_{kind}", row["reason"]] += max(0, round(seconds))
    opt_out_rows = (
        OptOut.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(month=TruncMonth("created_at", tzinfo=zone))
        .values("month")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in opt_out_rows:
        figures[_month_key(row["month"], zone), "opt_outs", ""] += row["n"]
    for provider in providers.registered():
        for period in months:
            figures[period.first_day, f"provider_{provider.name}", ""] += int(
                provider.count(period.start, period.end)
            )
    return figures


def _area_figures(department: Department) -> Counter:
    """Registered sites (their owner's registration confirmed) and integration devices in use,
    by area: {(metric, area): value}."""
    program = department.program
    finder = AreaFinder(program.center_latitude, program.center_longitude, program.service_radius_m)
    figures: Counter = Counter()
    sites = Site.objects.filter(confirmed_condition("participant__")).values_list(
        "latitude", "longitude"
    )
    for latitude, longitude in sites.iterator(chunk_size=5000):
        figures["sites", finder.area(latitude, longitude)] += 1
    devices = Device.objects.filter(
        confirmed_condition("site__participant__"), revoked_at__isnull=True
    ).values_list("site__latitude", "site__longitude")
    for latitude, longitude in devices.iterator(chunk_size=5000):
        figures["devices", finder.area(latitude, longitude)] += 1
    return figures


@transaction.atomic
def figures_refresh(*, department: Department, now: datetime) -> int:
    """Compute the department's published figures in its schema: the current and previous
    months always, earlier months of the last twelve only if they were never computed after
    they ended (closed months keep their figures), and the counts by area as of now. Running it
    again gives the same rows. Returns how many months were computed."""
    zone = department.zone
    months = months_until(now, zone)
    computed = dict(MonthComputed.objects.values_list("month", "computed_at"))
    due = [
        month
        for index, month in enumerate(months)
        if index >= len(months) - 2
        or month.first_day not in computed
        or computed[month.first_day] < month.end
    ]
    if not due:
        return 0
    figures = _month_figures(due, zone, now)
    current = months[-1].first_day
    MonthlyFigure.objects.filter(month__in=[month.first_day for month in due]).delete()
    # The counts by area are kept for the current month only.
    MonthlyFigure.objects.filter(metric__in=AREA_METRICS).delete()
    rows = [
        MonthlyFigure(month=month, metric=metric, category=category, value=value)
        for (month, metric, category), value in figures.items()
        if value
    ]
    rows += [
        MonthlyFigure(month=current, metric=metric, area=area, value=value)
        for (metric, area), value in _area_figures(department).items()
    ]
    MonthlyFigure.objects.bulk_create(rows)
    for month in due:
        MonthComputed.objects.update_or_create(month=month.first_day, defaults={"computed_at": now})
    return len(due)


def chain_check_record(*, verdict: Verdict, checked_at: datetime, **_signal: object) -> None:
    """Keep the result of an audit-chain check (a receiver of registry's audit_chain_checked)."""
    ChainCheck.objects.create(
        checked_at=checked_at, intact=verdict.broken_at is None, entries=verdict.entries
    )


@transaction.atomic
def policy_publish(*, policy_text: str, retention_text: str, funding_text: str) -> Policy | None:
    """Publish a new version of the department's texts; None when nothing changed."""
    latest = Policy.objects.first()
    texts = {
        "policy_text": policy_text.strip(),
        "retention_text": retention_text.strip(),
        "funding_text": funding_text.strip(),
    }
    if latest is not None and all(getattr(latest, key) == value for key, value in texts.items()):
        return None
    policy = Policy(**texts)
    policy.full_clean()
    policy.save()
    return policy
