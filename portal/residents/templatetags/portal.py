"""Template filters for the resident portal."""

from __future__ import annotations

import phonenumbers
from django import template

from billing.models import DevicePlan
from billing.money import money as money_text
from portal.registry.audit import reason_for_owner
from portal.registry.models import AuditEntry
from tenants.models import Program
from tenants.units import IMPERIAL

register = template.Library()


@register.filter
def phone(value: str) -> str:
    """A stored E.164 number as people write it: (704) 555-0142 (international for others)."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "US")
    except phonenumbers.NumberParseException:
        return value
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 1
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


@register.filter
def offence_label(code: str, program: Program | None) -> str:
    """An offence type code (an incident's, an audit entry's) as the department labels it."""
    if not code or program is None:
        return code or ""
    return program.offence_label(code)


@register.filter
def money(cents: int | None, currency: str = "usd") -> str:
    """An amount in the currency's smallest unit (billing.money, the one format)."""
    return money_text(cents, currency)


@register.filter
def plan_description(plan: DevicePlan, language: str) -> str:
    """What a device does, in the reader's language."""
    return plan.description(language or "en")


@register.filter
def owner_reason(entry: AuditEntry, units: str | None = None) -> str:
    """An audit entry's reason as its owner reads it, in the page's language
    (portal.registry.audit.reason_for_owner), never the department's English record."""
    return reason_for_owner(entry, units or IMPERIAL)
