"""Printing a report's stored counts: a suppressed count reads "fewer than 5", one withheld so
that a suppressed one cannot be worked out reads "withheld"."""

from __future__ import annotations

from django import template
from django.utils.translation import pgettext

from portal.council_reports.figures import FEWER, THRESHOLD, WITHHELD

register = template.Library()


@register.filter
def report_count(value: int | str | None) -> str:
    if value == FEWER:
        return pgettext("council_reports", "fewer than %(threshold)s") % {"threshold": THRESHOLD}
    if value == WITHHELD:
        # Shown, it would let a count under the threshold be worked out from the total.
        return pgettext("council_reports", "withheld")
    if value is None:
        return "—"
    return str(value)
