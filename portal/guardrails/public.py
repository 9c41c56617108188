"""The guardrails as the public transparency page shows them: the rules in force, in words, and
their changes (when, and which limit moved from what to what), naming no one."""

from __future__ import annotations

from datetime import datetime

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.guardrails.models import Guardrails
from portal.registry.models import AuditEntry
from tenants.models import current_department
from tenants.units import format_distance


def guardrails_in_force() -> list[tuple[str, str]]:
    """Each rule the department set, as (rule, value); the program's own limits when none is."""
    guardrails = Guardrails.current()
    program = current_department().program
    rules: list[tuple[str, str]] = []
    for code, metres in sorted(guardrails.radius_max_m.items()):
        rules.append(
            (
                _("Largest canvass radius, %(type)s") % {"type": program.offence_label(code)},
                format_distance(metres, program.distance_units),
            )
        )
    for code, hours in sorted(guardrails.window_max_hours.items()):
        rules.append(
            (
                _("Longest time window searched, %(type)s") % {"type": program.offence_label(code)},
                ngettext("%(hours)s hour", "%(hours)s hours", hours) % {"hours": hours},
            )
        )
    rules.append(
        (
            _("Largest canvass radius, any case"),
            format_distance(program.search_radius_max_m, program.distance_units),
        )
    )
    if guardrails.live_reasons_allowed is not None:
        labels = {str(reason["code"]): str(reason["label"]) for reason in program.live_reasons}
        allowed = [labels.get(code, code) for code in guardrails.live_reasons_allowed]
        rules.append((_("Reasons that allow a live view"), ", ".join(allowed) or _("none")))
    minutes = guardrails.live_grant_minutes_max or program.live_grant_minutes
    rules.append(
        (
            _("Longest live view"),
            ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes},
        )
    )
    yes, no = _("yes"), _("no")
    rules.append(
        (
            _("A second staff member approves each contact reveal"),
            yes if guardrails.reveal_second_approval else no,
        )
    )
    rules.append(
        (
            _("A second staff member approves each live view outside an emergency"),
            yes if guardrails.live_second_approval else no,
        )
    )
    if guardrails.reveal_daily_cap is not None:
        rules.append(
            (
                _("Contact reveals per staff member per day before a supervisor approves"),
                str(guardrails.reveal_daily_cap),
            )
        )
    rules.append(
        (
            _("In an emergency, a limit may be exceeded with a second approval (counted)"),
            yes if guardrails.emergency_overrides else no,
        )
    )
    return rules


def guardrail_changes_since(since: datetime) -> list[tuple[datetime, str]]:
    """When the guardrails changed and what moved (limits' codes and values, no one's name)."""
    entries = AuditEntry.objects.filter(
        action=AuditEntry.Action.GUARDRAIL_CHANGE, at__gte=since
    ).order_by("-at")
    return [(at, reason.split(": ", 1)[-1]) for at, reason in entries.values_list("at", "reason")]


def guardrails_stamp() -> str:
    return str(Guardrails.objects.filter(pk=1).values_list("updated_at", flat=True).first())
