"""The figures of a council report, computed from the records that enforce access: aggregate
SQL grouped by month and reason category (never a loop over entries), counts under the
threshold suppressed here, once, before anything is stored or shown. Nothing in the result
names a resident, an address, a case or a staff member: only counts, the department's
category labels, audit entry ids and a hash."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from portal.access_notices.selectors import access_notice_delays_by_month
from portal.council_reports.models import ChainCheck
from portal.department.models import Notification, NotificationRecipient
from portal.guardrails.selectors import guardrail_changes_by_month, guardrail_exceptions_by_month
from portal.liveview.models import Device, Grant
from portal.liveview.selectors import grant_open_duration
from portal.oversight.selectors import findings_by_month
from portal.registry.audit_chain import Verdict, audit_chain_verify
from portal.registry.models import AuditEntry, Camera, OptOut, Site
from tenants.models import Program

# A count under this is published as FEWER (and never stored), so no household can be singled
# out by a small number.
THRESHOLD = 5
FEWER = "<5"
# A count of THRESHOLD or more withheld so that a hidden count cannot be worked out.
WITHHELD = "withheld"
# The audit actions counted by reason category and month, in the report's order.
USAGE_ACTIONS = (
    AuditEntry.Action.REVEAL,
    AuditEntry.Action.FOOTAGE_REQUEST,
    AuditEntry.Action.NOTIFY,
    AuditEntry.Action.LIVE_FEED,
    AuditEntry.Action.EXPORT,
    AuditEntry.Action.DOWNLOAD,
)
# A stored chain check is reused for this long, as long as it covers the report's entries.
CHAIN_CHECK_FRESH = timedelta(hours=24)
UNCATEGORISED = ""

Count_ = int | str


def suppressed(count: int) -> Count_:
    """The one suppression rule: a count under THRESHOLD becomes FEWER."""
    return count if count >= THRESHOLD else FEWER


def suppressed_parts(parts: dict[str, int], total: int) -> dict[str, Count_]:
    """Parts of a published total (months, categories, emergency and other), each suppressed,
    and, when exactly one is hidden while the total is shown, the smallest other one withheld
    too (WITHHELD): the total minus the parts shown would give the hidden count away."""
    published: dict[str, Count_] = {key: suppressed(value) for key, value in parts.items()}
    if total < THRESHOLD:
        return published
    hidden = [key for key, value in published.items() if value == FEWER]
    if len(hidden) == 1:
        shown = sorted(
            (value, key) for key, value in parts.items() if key not in hidden and value > 0
        )
        if shown:
            published[shown[0][1]] = WITHHELD
    return published


def months_of(start: date, end: date) -> list[date]:
    months, month = [], date(start.year, start.month, 1)
    while month <= end:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _key(month: datetime | date) -> str:
    return f"{month:%Y-%m}"


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    zone = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, datetime.min.time()), zone)
    until = timezone.make_aware(
        datetime.combine(end + timedelta(days=1), datetime.min.time()), zone
    )
    return since, until


def _usage(since: datetime, until: datetime, months: list[str], program: Program) -> dict[str, Any]:
    """One query: audit entries of the counted actions by action, month and category."""
    zone = timezone.get_current_timezone()
    rows = (
        AuditEntry.objects.filter(at__gte=since, at__lt=until, action__in=USAGE_ACTIONS)
        .annotate(month=TruncMonth("at", tzinfo=zone))
        .values_list("action", "month", "category")
        .annotate(n=Count("pk"))
        .order_by()
    )
    totals: dict[str, int] = defaultdict(int)
    by_month: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for action, month, category, n in rows:
        totals[action] += n
        by_month[action][_key(timezone.localtime(month, zone))] += n
        by_category[action][category or UNCATEGORISED] += n
    return {
        action: {
            "total": suppressed(totals[action]),
            "by_month": suppressed_parts(
                {month: by_month[action][month] for month in months}, totals[action]
            ),
            "by_category": _categories(by_category[action], totals[action], program.offence_label),
        }
        for action in USAGE_ACTIONS
    }


def _categories(counts: dict[str, int], total: int, label: Any) -> list[dict[str, Count_ | str]]:
    published = suppressed_parts(counts, total)
    return [
        {"code": code, "label": label(code) if code else "", "count": published[code]}
        for code in sorted(counts)
    ]


def _area_notices(since: datetime, until: datetime, program: Program) -> dict[str, Any]:
    notices = Notification.objects.filter(
        kind=Notification.Kind.AREA, created_at__gte=since, created_at__lt=until
    )
    per_notice = dict(
        notices.values("incident__category")
        .annotate(n=Count("pk"))
        .values_list("incident__category", "n")
    )
    reached = (
        NotificationRecipient.objects.filter(notification__in=notices, sent_at__isnull=False)
        .values("notification__incident__category")
        .annotate(
            reached=Count("pk"),
            answered=Count("pk", filter=~Q(answer="")),
            footage=Count("pk", filter=Q(answer=NotificationRecipient.Answer.HAS_FOOTAGE)),
        )
        .order_by()
    )
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for code, n in per_notice.items():
        by_category[code]["notices"] += n
    for row in reached:
        code = row["notification__incident__category"]
        for field in ("reached", "answered", "footage"):
            by_category[code][field] += row[field]
    total = {
        field: sum(values[field] for values in by_category.values())
        for field in ("notices", "reached", "answered", "footage")
    }
    return {
        "notices": suppressed(total["notices"]),
        "owners_reached": suppressed(total["reached"]),
        "answered": suppressed(total["answered"]),
        "with_footage": suppressed(total["footage"]),
        "by_category": [
            {
                "code": code,
                "label": program.offence_label(code),
                "notices": suppressed(values["notices"]),
                "owners_reached": suppressed(values["reached"]),
                "answered": suppressed(values["answered"]),
                "with_footage": suppressed(values["footage"]),
            }
            for code, values in sorted(by_category.items())
        ],
    }


def _live_views(
    since: datetime, until: datetime, months: list[str], program: Program, now: datetime
) -> dict[str, Any]:
    zone = timezone.get_current_timezone()
    labels = {str(reason["code"]): str(reason["label"]) for reason in program.live_reasons}
    watched = grant_open_duration(now)
    rows = (
        Grant.objects.filter(opened_at__gte=since, opened_at__lt=until)
        .annotate(month=TruncMonth("opened_at", tzinfo=zone))
        .values_list("month", "reason", "emergency")
        .annotate(n=Count("pk"), duration=Sum(watched))
        .order_by()
    )
    count = emergency = 0
    minutes = 0.0
    by_month: dict[str, int] = defaultdict(int)
    by_reason: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for month, reason, is_emergency, n, duration in rows:
        spent = max((duration or timedelta()).total_seconds(), 0) / 60
        count += n
        minutes += spent
        emergency += n if is_emergency else 0
        by_month[_key(timezone.localtime(month, zone))] += n
        by_reason[reason]["count"] += n
        by_reason[reason]["minutes"] += spent
        by_reason[reason]["emergency"] += n if is_emergency else 0

    def minutes_of(views: int, spent: float) -> Count_:
        # Minutes of fewer than THRESHOLD views would tell about those few views: withheld.
        return round(spent) if views >= THRESHOLD else FEWER

    kinds = suppressed_parts({"emergency": emergency, "other": count - emergency}, count)
    reasons = suppressed_parts(
        {code: int(values["count"]) for code, values in by_reason.items()}, count
    )

    def reason_kinds(values: dict[str, float]) -> dict[str, Count_]:
        views, urgent = int(values["count"]), int(values["emergency"])
        return suppressed_parts({"emergency": urgent, "other": views - urgent}, views)

    return {
        "count": suppressed(count),
        "minutes": minutes_of(count, minutes),
        "emergency": kinds["emergency"],
        "other": kinds["other"],
        "by_month": suppressed_parts({month: by_month[month] for month in months}, count),
        "by_reason": [
            {
                "code": code,
                "label": labels.get(code, code),
                "count": reasons[code],
                "minutes": minutes_of(int(values["count"]), values["minutes"]),
                **reason_kinds(values),
            }
            for code, values in sorted(by_reason.items())
        ],
    }


def _hash_of(entry_id: int | None) -> str:
    if entry_id is None:
        return ""
    return AuditEntry.objects.filter(pk=entry_id).values_list("hash", flat=True).first() or ""


def chain_check_store(
    *,
    verdict: Verdict,
    last_entry_id: int | None,
    now: datetime | None = None,
    after: ChainCheck | None = None,
    **_: object,
) -> ChainCheck:
    """Keep a verification of the current schema's chain (the registry's scheduled check sends
    each of its verdicts here: portal.registry.signals.audit_chain_checked)."""
    return ChainCheck.objects.create(
        checked_at=now or timezone.now(),
        entries=verdict.entries + (after.entries if after else 0),
        last_entry_id=last_entry_id,
        last_entry_hash=_hash_of(last_entry_id),
        broken_at=verdict.broken_at,
        after=after,
    )


def chain_check(last_entry_id: int | None, now: datetime) -> ChainCheck:
    """The latest verification of the hash chain, if recent and covering `last_entry_id`
    (the scheduled nightly check's, usually). Otherwise the registry's check, run now: on the
    entries after the last intact check only, when the entry it ended on still has the hash it
    had (a rewritten chain changes it); the nightly check walks the whole chain again."""
    recent = ChainCheck.objects.filter(checked_at__gte=now - CHAIN_CHECK_FRESH).first()
    if recent is not None and (last_entry_id or 0) <= (recent.last_entry_id or 0):
        return recent
    newest = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    anchor = (
        ChainCheck.objects.filter(broken_at__isnull=True, last_entry_id__isnull=False)
        .exclude(last_entry_hash="")
        .first()
    )
    if (
        anchor is not None
        and anchor.last_entry_id is not None
        and anchor.last_entry_hash == _hash_of(anchor.last_entry_id)
    ):
        verdict = audit_chain_verify(after=anchor.last_entry_id, previous=anchor.last_entry_hash)
        return chain_check_store(verdict=verdict, last_entry_id=newest, now=now, after=anchor)
    return chain_check_store(verdict=audit_chain_verify(), last_entry_id=newest, now=now)


def _audit(since: datetime, until: datetime, now: datetime) -> dict[str, Any]:
    in_range = AuditEntry.objects.filter(at__gte=since, at__lt=until)
    span = in_range.order_by().aggregate(first=Min("pk"), last=Max("pk"), entries=Count("pk"))
    last_hash = (
        AuditEntry.objects.filter(pk=span["last"]).values_list("hash", flat=True).first() or ""
    )
    check = chain_check(span["last"], now)
    return {
        "entries": suppressed(span["entries"]),
        "first_entry_id": span["first"],
        "last_entry_id": span["last"],
        "last_entry_hash": last_hash,
        "chain": {
            "checked_at": check.checked_at.isoformat(),
            "entries_checked": check.entries,
            "intact": check.broken_at is None,
            "broken_at": check.broken_at,
            # Set when this check read only the entries after an earlier intact one's.
            "earlier_check": None
            if check.after is None
            else {
                "checked_at": check.after.checked_at.isoformat(),
                "last_entry_id": check.after.last_entry_id,
            },
        },
    }


def report_figures(*, program: Program, start: date, end: date, now: datetime) -> dict[str, Any]:
    """Every figure of a report on `start`..`end` (both included, in the current time zone),
    in the current schema, as JSON-ready data with small counts suppressed."""
    since, until = _bounds(start, end)
    month_days = months_of(start, end)
    months = [_key(month) for month in month_days]
    changes = guardrail_changes_by_month(start, end)
    exceptions = guardrail_exceptions_by_month(start, end)
    findings = findings_by_month(start, end)
    delays = access_notice_delays_by_month(start, end)
    return {
        "version": 1,
        "period": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "time_zone": str(timezone.get_current_timezone()),
        },
        "generated_at": now.isoformat(),
        "months": months,
        "usage": _usage(since, until, months, program),
        "area_notices": _area_notices(since, until, program),
        "live_views": _live_views(since, until, months, program, now),
        "registry": {
            "as_of": timezone.localtime(now).date().isoformat(),
            "sites": suppressed(Site.objects.count()),
            "cameras": suppressed(Camera.objects.count()),
            "integrated_devices": suppressed(
                Device.objects.filter(revoked_at__isnull=True).count()
            ),
        },
        "opt_outs": suppressed(
            OptOut.objects.filter(created_at__gte=since, created_at__lt=until).count()
        ),
        "audit": _audit(since, until, now),
        "guardrails": {
            "changes": suppressed(sum(n for _month, n in changes)),
            "exceptions": suppressed(sum(n for _month, n in exceptions)),
        },
        "oversight": {
            "findings_recorded": suppressed(sum(month.recorded for month in findings)),
            "findings_resolved": suppressed(sum(month.resolved for month in findings)),
        },
        "notice_delays": {
            "delays": suppressed(sum(month.delays for month in delays)),
            "notices_delayed": suppressed(sum(month.notices_delayed for month in delays)),
        },
    }
