"""Printing a report's stored counts: a suppressed count reads "fewer than 5"."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext

from portal.council_reports.figures import FEWER, THRESHOLD

register = template.Library()


@register.filter
def report_count(value: int | str | None) -> str:
    if value == FEWER:
        return pgettext("council_reports", "fewer than %(threshold)s") % {"threshold": THRESHOLD}
    if value is None:
        return "—"
    return str(value)
