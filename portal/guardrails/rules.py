"""The checks the guardrails make, called by the services that act (the canvass, the reveal,
the live view): a refusal naming the rule, or the second approval the action needs first."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, time
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.guardrails.models import ApprovalRequest, Guardrails
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry
from tenants.models import Program, current_department
from tenants.units import format_typed, input_unit

if TYPE_CHECKING:
    from collections.abc import Sequence


class GuardrailRefused(Exception):
    """An action outside a guardrail, with the message naming the rule (and the form field it
    concerns, when there is one). Nothing is written."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ApprovalNeeded(Exception):
    """An action a guardrail lets through only with another staff member's approval (`rule`:
    an ApprovalRequest.Rule); the caller records an approval request instead of acting."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule


def set_on(guardrails: Guardrails) -> str:
    """Where a rule comes from, for refusals: when it was set, never by whom."""
    if guardrails.updated_at is None:
        return _("guardrail set by an administrator")
    return _("guardrail set on %(date)s by an administrator") % {
        "date": timezone.localdate(guardrails.updated_at).isoformat()
    }


def _overridden(
    guardrails: Guardrails,
    refusal: str,
    *,
    emergency: bool,
    approval: ApprovalRequest | None,
    field: str | None = None,
) -> None:
    """Refuse, or, for an emergency where the department allows overrides, ask for an
    administrator's approval (an approved override passes)."""
    if approval is not None and approval.rule == ApprovalRequest.Rule.OVERRIDE:
        return
    if emergency and guardrails.emergency_overrides:
        raise ApprovalNeeded(
            _(
                "%(refusal)s This department allows an emergency override with an "
                "administrator's approval; it is counted as an exception."
            )
            % {"refusal": refusal},
            ApprovalRequest.Rule.OVERRIDE,
        )
    raise GuardrailRefused(refusal, field)


def canvass_check(
    *,
    program: Program,
    category: str,
    radius_searched_m: int,
    starts_at: datetime,
    ends_at: datetime,
) -> None:
    """The canvass an incident may search: within the department's outer cap
    (Program.search_radius_max_m) and the guardrails of its offence type."""
    if radius_searched_m > program.search_radius_max_m:
        raise GuardrailRefused(
            _(
                "This department searches at most %(cap)s from an incident: a wider canvass "
                "would list too much of the city. Narrow the radius (the export lists every "
                "site of a canvass)."
            )
            % {
                "cap": format_typed(
                    program.search_radius_max_m, input_unit(program.distance_units), rounding="down"
                )
            },
            "radius_m",
        )
    guardrails = Guardrails.current()
    label = program.offence_label(category).lower()
    radius_max = guardrails.radius_max_m.get(category)
    if radius_max is not None and radius_searched_m > radius_max:
        raise GuardrailRefused(
            _("This department allows at most %(distance)s for a %(type)s canvass (%(set_on)s).")
            % {
                "distance": format_typed(
                    radius_max, input_unit(program.distance_units), rounding="down"
                ),
                "type": label,
                "set_on": set_on(guardrails),
            },
            "radius_m",
        )
    hours_max = guardrails.window_max_hours.get(category)
    if hours_max is not None and (ends_at - starts_at).total_seconds() > hours_max * 3600:
        raise GuardrailRefused(
            ngettext(
                "This department allows a time window of at most %(hours)s hour for a "
                "%(type)s canvass (%(set_on)s).",
                "This department allows a time window of at most %(hours)s hours for a "
                "%(type)s canvass (%(set_on)s).",
                hours_max,
            )
            % {"hours": hours_max, "type": label, "set_on": set_on(guardrails)},
            "ends_at",
        )


def reveals_today(actor: Actor) -> int:
    """How many contacts the actor revealed since midnight in the city's time zone."""
    zone = zoneinfo.ZoneInfo(current_department().time_zone)
    today = timezone.now().astimezone(zone).date()
    midnight = datetime.combine(today, time.min, tzinfo=zone)
    return AuditEntry.objects.filter(
        action=AuditEntry.Action.REVEAL, actor_email=actor.email, at__gte=midnight
    ).count()


def reveal_check(*, actor: Actor, approval: ApprovalRequest | None) -> None:
    """Whether the actor may reveal a contact now, or needs an approval first: over the daily
    cap an administrator's, and a second staff member's where the department requires one."""
    if approval is not None:
        return
    guardrails = Guardrails.current()
    cap = guardrails.reveal_daily_cap
    if cap is not None and reveals_today(actor) >= cap:
        raise ApprovalNeeded(
            ngettext(
                "You have revealed %(count)s contact today, this department's daily cap "
                "(%(set_on)s): an administrator must approve each further reveal.",
                "You have revealed %(count)s contacts today, this department's daily cap "
                "(%(set_on)s): an administrator must approve each further reveal.",
                cap,
            )
            % {"count": cap, "set_on": set_on(guardrails)},
            ApprovalRequest.Rule.DAILY_CAP,
        )
    if guardrails.reveal_second_approval:
        raise ApprovalNeeded(
            _(
                "This department requires a second staff member to approve each reveal of "
                "contact details (%(set_on)s)."
            )
            % {"set_on": set_on(guardrails)},
            ApprovalRequest.Rule.SECOND_APPROVAL,
        )


def live_minutes_most(program: Program, guardrails: Guardrails | None = None) -> int:
    """The longest grant staff may ask for: the guardrail, or else the program's length."""
    guardrails = guardrails or Guardrails.current()
    if guardrails.live_grant_minutes_max is not None:
        return guardrails.live_grant_minutes_max
    return program.live_grant_minutes


def live_check(
    *,
    program: Program,
    reason_code: str,
    reason_label: str,
    emergency: bool,
    minutes: int | None,
    approval: ApprovalRequest | None,
) -> int:
    """The grant length a live view gets (`minutes` asked, or the program's length within the
    guardrail), refused or held for approval by the guardrails: the reasons that allow a live
    view, the longest grant, and a second approval outside an emergency."""
    guardrails = Guardrails.current()
    allowed: Sequence[str] | None = guardrails.live_reasons_allowed
    if allowed is not None and reason_code not in allowed:
        _overridden(
            guardrails,
            _("This department does not allow a live view for “%(reason)s” (%(set_on)s).")
            % {"reason": reason_label, "set_on": set_on(guardrails)},
            emergency=emergency,
            approval=approval,
            field="reason",
        )
    most = live_minutes_most(program, guardrails)
    if minutes is None:
        minutes = min(program.live_grant_minutes, most)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        raise GuardrailRefused(_("A live view lasts at least 1 minute."), "minutes")
    if minutes > most:
        refusal = (
            ngettext(
                "This department allows live views of at most %(minutes)s minute (%(set_on)s).",
                "This department allows live views of at most %(minutes)s minutes (%(set_on)s).",
                most,
            )
            % {"minutes": most, "set_on": set_on(guardrails)}
            if guardrails.live_grant_minutes_max is not None
            else ngettext(
                "This department's live views last at most %(minutes)s minute.",
                "This department's live views last at most %(minutes)s minutes.",
                most,
            )
            % {"minutes": most}
        )
        if guardrails.live_grant_minutes_max is None:
            raise GuardrailRefused(refusal, "minutes")
        _overridden(guardrails, refusal, emergency=emergency, approval=approval, field="minutes")
    if guardrails.live_second_approval and not emergency and approval is None:
        raise ApprovalNeeded(
            _(
                "This department requires a second staff member to approve a live view for a "
                "reason that is not an emergency (%(set_on)s)."
            )
            % {"set_on": set_on(guardrails)},
            ApprovalRequest.Rule.SECOND_APPROVAL,
        )
    return minutes
