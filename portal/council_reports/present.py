"""A stored report's figures arranged for its page and PDF: rows with translated headings;
the figures themselves are printed as stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import pgettext

from portal.council_reports.figures import USAGE_ACTIONS
from portal.council_reports.models import CouncilReport
from portal.registry.models import AuditEntry


@dataclass(frozen=True)
class UsageRow:
    action: str
    label: str
    total: int | str
    by_category: list[dict[str, Any]]
    by_month: list[int | str]


def usage_label(action: str) -> str:
    labels = {
        AuditEntry.Action.REVEAL: pgettext("council_reports", "Contact details revealed"),
        AuditEntry.Action.FOOTAGE_REQUEST: pgettext("council_reports", "Footage requests"),
        AuditEntry.Action.NOTIFY: pgettext("council_reports", "Area notices sent"),
        AuditEntry.Action.LIVE_FEED: pgettext("council_reports", "Live views opened"),
        AuditEntry.Action.EXPORT: pgettext("council_reports", "Registry exports"),
        AuditEntry.Action.DOWNLOAD: pgettext("council_reports", "Footage downloads"),
    }
    return labels[AuditEntry.Action(action)]


def report_context(report: CouncilReport) -> dict[str, Any]:
    figures = report.figures
    months = figures["months"]
    usage = [
        UsageRow(
            action=action,
            label=usage_label(action),
            total=figures["usage"][action]["total"],
            by_category=figures["usage"][action]["by_category"],
            by_month=[figures["usage"][action]["by_month"][month] for month in months],
        )
        for action in USAGE_ACTIONS
    ]
    month_labels = [
        date_format(date(int(month[:4]), int(month[5:]), 1), "YEAR_MONTH_FORMAT")
        for month in months
    ]
    live = figures["live_views"]
    return {
        "report": report,
        "figures": figures,
        "usage": usage,
        "shared": [
            row
            for row in usage
            if row.action in (AuditEntry.Action.EXPORT, AuditEntry.Action.DOWNLOAD)
        ],
        "month_labels": month_labels,
        "live_by_month": [live["by_month"][month] for month in months],
    }
