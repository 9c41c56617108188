"""Changing the guardrails (each change audited with its old and new values) and the second
approvals they call for: requested, then approved (the action runs) or declined by another
staff member."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.department.models import Incident
from portal.department.services import contact_reveal
from portal.guardrails.models import ApprovalRequest, Guardrails
from portal.guardrails.rules import ApprovalNeeded
from portal.liveview.services import GrantRefused, grant_open, live_reasons
from portal.registry.audit import Actor, NoteNamesOwner, audit_record
from portal.registry.models import AuditEntry, Camera, Capability, Site, StaffMember
from tenants.models import Program
from tenants.units import format_typed, input_unit

# The smallest canvass radius a guardrail may set (as the program's outer cap: 100 m).
RADIUS_MIN_M = 100
# The longest time window a guardrail may set: a year.
WINDOW_MAX_HOURS = 24 * 365
# The longest live-view grant there is (Program.live_grant_minutes' own maximum).
LIVE_GRANT_MINUTES_MOST = 60


class GuardrailsInvalid(Exception):
    """Guardrails that contradict each other or the program: {field: message}."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class GuardrailValues:
    """Every guardrail, as an administrator sets them (empty: no limit beyond the program's)."""

    radius_max_m: dict[str, int]
    window_max_hours: dict[str, int]
    live_reasons_allowed: list[str] | None
    live_grant_minutes_max: int | None
    reveal_second_approval: bool
    live_second_approval: bool
    reveal_daily_cap: int | None
    emergency_overrides: bool

    @classmethod
    def of(cls, guardrails: Guardrails) -> GuardrailValues:
        return cls(**{name: getattr(guardrails, name) for name in cls.__dataclass_fields__})


def _invalid(values: GuardrailValues, program: Program) -> dict[str, str]:
    errors: dict[str, str] = {}
    offence_codes = {code for code, _label in program.offence_type_choices()}
    cap = program.search_radius_max_m
    unit = input_unit(program.distance_units)
    for code, metres in values.radius_max_m.items():
        label = program.offence_label(code)
        if code not in offence_codes:
            errors[f"radius_{code}"] = _(
                "“%(code)s” is not one of the department's offense types."
            ) % {"code": code}
        elif metres < RADIUS_MIN_M:
            errors[f"radius_{code}"] = _(
                "The largest canvass radius for %(type)s (%(value)s) is below the smallest "
                "radius a guardrail may set, %(min)s."
            ) % {
                "type": label,
                "value": format_typed(metres, unit),
                "min": format_typed(RADIUS_MIN_M, unit, rounding="up"),
            }
        elif metres > cap:
            errors[f"radius_{code}"] = _(
                "The largest canvass radius for %(type)s (%(value)s) is above the "
                "department's outer cap of %(cap)s: set %(cap)s or less."
            ) % {
                "type": label,
                "value": format_typed(metres, unit),
                "cap": format_typed(cap, unit, rounding="down"),
            }
    for code, hours in values.window_max_hours.items():
        if code not in offence_codes:
            errors[f"window_{code}"] = _(
                "“%(code)s” is not one of the department's offense types."
            ) % {"code": code}
        elif not 1 <= hours <= WINDOW_MAX_HOURS:
            errors[f"window_{code}"] = _(
                "The longest time window for %(type)s must be between 1 and %(most)s hours."
            ) % {"type": program.offence_label(code), "most": WINDOW_MAX_HOURS}
    reason_codes = {reason.code for reason in live_reasons(program)}
    for code in values.live_reasons_allowed or []:
        if code not in reason_codes:
            errors["live_reasons_allowed"] = _(
                "“%(code)s” is not one of the department's live-view reasons."
            ) % {"code": code}
    minutes = values.live_grant_minutes_max
    if minutes is not None and not 1 <= minutes <= LIVE_GRANT_MINUTES_MOST:
        errors["live_grant_minutes_max"] = _(
            "The longest live-view grant must be between 1 and %(most)s minutes (leave it "
            "empty for the program's length)."
        ) % {"most": LIVE_GRANT_MINUTES_MOST}
    if values.reveal_daily_cap is not None and values.reveal_daily_cap < 1:
        errors["reveal_daily_cap"] = _(
            "The daily cap on reveals must be 1 or more (leave it empty for no cap)."
        )
    return errors


def _changes(old: GuardrailValues, new: GuardrailValues) -> list[str]:
    """What changed, as "name: old -> new" (codes and numbers only: no personal data)."""
    changes = []
    for name in GuardrailValues.__dataclass_fields__:
        before, after = getattr(old, name), getattr(new, name)
        if isinstance(before, dict) or isinstance(after, dict):
            for code in sorted(set(before) | set(after)):
                if before.get(code) != after.get(code):
                    changes.append(
                        f"{name}.{code}: {before.get(code, '-')} -> {after.get(code, '-')}"
                    )
        elif before != after:
            show = lambda value: "-" if value is None else value  # noqa: E731
            changes.append(f"{name}: {show(before)} -> {show(after)}")
    return changes


@transaction.atomic
def guardrails_set(*, actor: Actor, program: Program, values: GuardrailValues) -> Guardrails:
    """Replace the department's guardrails by `values` (an administrator's). Refused
    (GuardrailsInvalid, nothing saved) when they contradict each other or the program; a
    change is recorded (GUARDRAIL_CHANGE) with every old and new value; no change, no entry."""
    staff = actor.as_staff()
    if not staff.can(Capability.ADMINISTER) or staff.is_support:
        raise GuardrailsInvalid(
            {"__all__": _("Only the department's administrators set its guardrails.")}
        )
    errors = _invalid(values, program)
    if errors:
        raise GuardrailsInvalid(errors)
    Guardrails.objects.get_or_create(pk=1)
    guardrails = Guardrails.objects.select_for_update().get(pk=1)
    changes = _changes(GuardrailValues.of(guardrails), values)
    if not changes:
        return guardrails
    for name in GuardrailValues.__dataclass_fields__:
        setattr(guardrails, name, getattr(values, name))
    guardrails.updated_at = timezone.now()
    guardrails.save()
    audit_record(
        actor=actor,
        action=AuditEntry.Action.GUARDRAIL_CHANGE,
        reason="Guardrails changed: " + "; ".join(changes),
    )
    return guardrails


@transaction.atomic
def approval_request_reveal(
    *, actor: Actor, incident: Incident, site: Site, note: str, needed: ApprovalNeeded
) -> ApprovalRequest:
    """Hold a reveal a guardrail stopped (`needed`) for another staff member's approval."""
    staff = actor.as_staff()
    return ApprovalRequest.objects.create(
        kind=ApprovalRequest.Kind.REVEAL,
        rule=needed.rule,
        why=needed.message[:500],
        requested_by=staff,
        requested_from=actor.ip_address,
        incident=incident,
        site=site,
        case_number=incident.case_number,
        note=note[:500],
    )


@transaction.atomic
def approval_request_live(
    *,
    actor: Actor,
    camera: Camera,
    reason: str,
    case_number: str,
    note: str,
    minutes: int | None,
    needed: ApprovalNeeded,
) -> ApprovalRequest:
    """Hold a live view a guardrail stopped (`needed`) for another staff member's approval."""
    staff = actor.as_staff()
    return ApprovalRequest.objects.create(
        kind=ApprovalRequest.Kind.LIVE_VIEW,
        rule=needed.rule,
        why=needed.message[:500],
        requested_by=staff,
        requested_from=actor.ip_address,
        camera=camera,
        reason=reason[:40],
        case_number=" ".join(case_number.split())[:40],
        minutes=minutes,
        note=note[:500],
    )


class ApprovalRefused(Exception):
    """An approval or decline that may not be given, with the message to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def may_decide(staff: StaffMember, approval: ApprovalRequest) -> bool:
    """THE rule of who decides a request: another active staff member, an administrator for
    the daily cap and overrides, else one who may do the same action."""
    if staff.pk == approval.requested_by_id or staff.is_support or not staff.user.is_active:
        return False
    if approval.needs_administrator:
        return staff.can(Capability.ADMINISTER)
    if approval.kind == ApprovalRequest.Kind.REVEAL:
        return staff.can(Capability.CASEWORK) and staff.can(Capability.PERSONAL_DATA)
    return staff.can(Capability.LIVE_VIEW)


@transaction.atomic
def approval_decide(*, actor: Actor, approval: ApprovalRequest, approve: bool) -> ApprovalRequest:
    """Approve (the held action runs now for its requester, audited as usual and naming the
    approver; an override is also counted as a GUARDRAIL_EXCEPTION) or decline a request.
    Refused (ApprovalRefused, nothing written) for the requester themselves, a role that may
    not decide it, a request already decided (the row is locked: two approvers at once, one
    wins), or an action that can no longer run."""
    staff = actor.as_staff()
    approval = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("requested_by__user", "incident", "site", "camera")
        .get(pk=approval.pk)
    )
    if approval.status != ApprovalRequest.Status.PENDING:
        raise ApprovalRefused(_("This request has already been decided."))
    if staff.pk == approval.requested_by_id:
        raise ApprovalRefused(
            _("You cannot approve or decline your own request: another staff member decides.")
        )
    if not may_decide(staff, approval):
        raise ApprovalRefused(
            _("An administrator decides this request.")
            if approval.needs_administrator
            else _("Your role may not decide this request.")
        )
    approval.status = (
        ApprovalRequest.Status.APPROVED if approve else ApprovalRequest.Status.DECLINED
    )
    approval.decided_by = staff
    approval.decided_at = timezone.now()
    if approve:
        _run(approval, staff)
        if approval.rule == ApprovalRequest.Rule.OVERRIDE:
            audit_record(
                actor=actor,
                action=AuditEntry.Action.GUARDRAIL_EXCEPTION,
                reason=(
                    f"Emergency override approved: {approval.get_kind_display()} requested by "
                    f"{approval.requested_by.user.email} (approval request {approval.pk})"
                ),
            )
    approval.save(update_fields=["status", "decided_by", "decided_at", "grant_id"])
    return approval


def _run(approval: ApprovalRequest, approver: StaffMember) -> None:
    requester = approval.requested_by
    if not requester.user.is_active:
        raise ApprovalRefused(_("The staff member who asked can no longer act."))
    actor = Actor.of_staff(requester, approval.requested_from)
    try:
        if approval.kind == ApprovalRequest.Kind.REVEAL:
            if approval.incident is None or approval.site is None:
                raise ApprovalRefused(_("The case or the site of this request no longer exists."))
            if not Site.objects.searchable().filter(pk=approval.site.pk).exists():
                raise ApprovalRefused(
                    _("This site can no longer be searched: nothing was revealed.")
                )
            contact_reveal(
                actor=actor,
                site=approval.site,
                incident=approval.incident,
                note=approval.note,
                approval=approval,
                approved_by=approver.user.email,
            )
            return
        if approval.camera is None:
            raise ApprovalRefused(_("This camera no longer exists."))
        grant = grant_open(
            actor=actor,
            camera=approval.camera,
            reason=approval.reason,
            case_number=approval.case_number,
            note=approval.note,
            minutes=approval.minutes,
            approval=approval,
            approved_by=approver.user.email,
        )
        approval.grant_id = grant.pk
    except (GrantRefused, ApprovalNeeded) as refused:
        raise ApprovalRefused(refused.message) from refused
    except NoteNamesOwner as refused:
        raise ApprovalRefused(_("The note names the owner: nothing was recorded.")) from refused


def values_from(data: dict[str, Any]) -> GuardrailValues:
    """The form's cleaned data as guardrail values."""
    return GuardrailValues(
        radius_max_m=data["radius_max_m"],
        window_max_hours=data["window_max_hours"],
        live_reasons_allowed=data["live_reasons_allowed"],
        live_grant_minutes_max=data["live_grant_minutes_max"],
        reveal_second_approval=data["reveal_second_approval"],
        live_second_approval=data["live_second_approval"],
        reveal_daily_cap=data["reveal_daily_cap"],
        emergency_overrides=data["emergency_overrides"],
    )
