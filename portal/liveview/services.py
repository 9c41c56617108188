"""Live view's writes: grants to watch one camera, and how every grant ends. The authorisation
of each media request is portal.liveview.media."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.guardrails import rules as guardrails
from portal.guardrails.models import ApprovalRequest
from portal.liveview import rules
from portal.liveview.models import NOTICE_DELAY_MAX, Grant
from portal.registry.audit import Actor, audit_record, note_names_owner
from portal.registry.models import AuditEntry, Camera, Capability, StaffMember
from tenants.models import Program, current_department


class GrantRefused(Exception):
    """A live view that may not be opened (or renewed), with the message to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class GrantReason:
    """What the audit trail keeps of a grant's reason (portal.registry.audit.Case): the case
    number and the live-view reason code; no incident."""

    case_number: str
    category: str
    pk: int | None = None


@transaction.atomic
def grants_end(*, grants: QuerySet[Grant], why: str, actor: Actor | None = None) -> int:
    """End every open grant among `grants` now, for `why` (a Grant.Ended value), and write
    each one's LIVE_FEED_END audit entry: who watched (the grant's staff member, from the
    grant's address), which camera, the reason and case, seconds watched and why it ended.
    THE way any grant ends: media stops at the relay's next check (within a second).
    Returns how many ended. `actor` (who ended it, when not the viewer) goes in the reason."""
    now = timezone.now()
    ended = list(
        grants.filter(ended_at__isnull=True)
        .select_for_update(of=("self",))
        .select_related("staff__user", "camera__site")
    )
    # The audit trail is written in one language (English), whoever's request ended the grant.
    with translation.override("en"):
        why_label = str(Grant.Ended(why).label)
    for grant in ended:
        # An expired grant ended at its expiry, whenever the sweep noticed.
        grant.ended_at = min(now, grant.expires_at)
        grant.ended_why = why
        if grant.watched_until and grant.watched_until > grant.ended_at:
            grant.watched_until = grant.ended_at
        grant.save(update_fields=["ended_at", "ended_why", "watched_until"])
        by = f" by {actor.email}" if actor is not None and actor.staff != grant.staff else ""
        audit_record(
            actor=Actor(grant.staff_email, grant.staff_role, grant.ip_address, staff=grant.staff),
            action=AuditEntry.Action.LIVE_FEED_END,
            reason=(
                f"Live view of camera {grant.camera_id} ({grant.camera.label}) ended: "
                f"{why_label}{by}; {grant.seconds_watched} s watched"
            ),
            site=grant.camera.site,
            case=GrantReason(grant.case_number, grant.reason),
        )
    return len(ended)


# What ends a grant when the rule no longer lets its camera be watched (rules.LiveState.code).
# A silent device is not here: media is refused while it is offline, and the grant stays for
# when it is back.
ENDED_BY: dict[str, str] = {
    rules.NOT_INTEGRATED: Grant.Ended.LAPSED,
    rules.LAPSED: Grant.Ended.LAPSED,
    rules.SITE_PAUSED: Grant.Ended.OWNER_PAUSED,
    rules.CAMERA_PAUSED: Grant.Ended.OWNER_PAUSED,
    rules.OWNER_PAUSED: Grant.Ended.OWNER_PAUSED,
    rules.DEVICE_PAUSED: Grant.Ended.OWNER_PAUSED,
    rules.DEVICE_REVOKED: Grant.Ended.DEVICE_REVOKED,
    rules.NO_CHANNEL: Grant.Ended.MODE_CHANGED,
    rules.SHARING_OFF: Grant.Ended.MODE_CHANGED,
    rules.EMERGENCY_ONLY: Grant.Ended.MODE_CHANGED,
    rules.OUTSIDE_HOURS: Grant.Ended.MODE_CHANGED,
}


@dataclass(frozen=True)
class LiveReason:
    """One of the department's live-view reasons (Program.live_reasons)."""

    code: str
    label: str
    emergency: bool


def live_reasons(program: Program) -> list[LiveReason]:
    """The department's live-view reasons, in its order (entries without a code are skipped)."""
    reasons = []
    for entry in program.live_reasons or []:
        if isinstance(entry, dict) and isinstance(entry.get("code"), str) and entry["code"]:
            label = entry.get("label")
            reasons.append(
                LiveReason(
                    code=entry["code"],
                    label=label if isinstance(label, str) and label else entry["code"],
                    emergency=entry.get("emergency") is True,
                )
            )
    return reasons


CASE_NUMBER_MAX = 40
NOTE_MAX = 500


def _staff_of(actor: Actor) -> StaffMember:
    staff = actor.staff
    if staff is None or not staff.user.is_active or not staff.can(Capability.LIVE_VIEW):
        raise GrantRefused(_("Your role may not open live views."))
    return staff


def _reason_of(program: Program, code: str) -> LiveReason:
    code = (code or "").strip()
    if not code:
        raise GrantRefused(_("Choose the reason for this live view."))
    for reason in live_reasons(program):
        if reason.code == code:
            return reason
    raise GrantRefused(_("This reason is not one of the department's live-view reasons."))


def _case_number(case_number: str) -> str:
    case_number = " ".join((case_number or "").split())
    if not case_number:
        raise GrantRefused(_("Enter the case number this live view is for."))
    if len(case_number) > CASE_NUMBER_MAX:
        raise GrantRefused(
            _("A case number has at most %(count)d characters.") % {"count": CASE_NUMBER_MAX}
        )
    return case_number


def _note(note: str, camera: Camera) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise GrantRefused(_("A note has at most %(count)d characters.") % {"count": NOTE_MAX})
    if "\x00" in note:
        raise GrantRefused(_("The note contains characters that cannot be kept."))
    if note_names_owner(note, camera.site):
        raise GrantRefused(
            _(
                "The note contains the owner's name, phone or email. Leave them out: the owner "
                "and auditors read the note. Nothing was recorded."
            )
        )
    return note


def _notice_delay(hours: int, reason: LiveReason) -> int:
    most = int(NOTICE_DELAY_MAX.total_seconds() // 3600)
    if not isinstance(hours, int) or isinstance(hours, bool) or not 0 <= hours <= most:
        raise GrantRefused(
            _("The owner's notice can be delayed by 0 to %(most)d hours.") % {"most": most}
        )
    if hours and not reason.emergency:
        raise GrantRefused(_("Only an emergency reason can delay the owner's notice."))
    return hours


def _guarded_minutes(
    program: Program, reason: LiveReason, minutes: int | None, approval: ApprovalRequest | None
) -> int:
    """The grant's length within the department's guardrails; their refusal as GrantRefused
    (an approval they want passes through as guardrails.ApprovalNeeded)."""
    try:
        return guardrails.live_check(
            program=program,
            reason_code=reason.code,
            reason_label=reason.label,
            emergency=reason.emergency,
            minutes=minutes,
            approval=approval,
        )
    except guardrails.GuardrailRefused as refused:
        raise GrantRefused(refused.message) from refused


def _shareable(camera: Camera, reason: LiveReason, now: datetime) -> Camera:
    """The camera read afresh with what the rule needs; GrantRefused when it may not be
    watched now for this reason."""
    department = current_department()
    fresh = Camera.objects.select_related(*rules.LIVE_STATE_RELATED).filter(pk=camera.pk).first()
    if fresh is None:
        raise GrantRefused(_("This camera no longer exists."))
    state = rules.camera_live_state(
        fresh,
        now=now,
        emergency=reason.emergency,
        program=department.program,
        time_zone=department.time_zone,
    )
    if not state.shareable:
        raise GrantRefused(state.why_not)
    return fresh


def _grant_create(
    *,
    actor: Actor,
    staff: StaffMember,
    camera: Camera,
    reason: LiveReason,
    case_number: str,
    note: str,
    now: datetime,
    notice_after: datetime,
    notice_delayed: bool,
    minutes: int,
    renewed_from: Grant | None = None,
    approved_by: str = "",
) -> Grant:
    grant = Grant.objects.create(
        staff=staff,
        staff_email=staff.user.email,
        staff_role=staff.role,
        camera=camera,
        reason=reason.code,
        emergency=reason.emergency,
        case_number=case_number,
        note=note,
        ip_address=actor.ip_address,
        opened_at=now,
        expires_at=now + timedelta(minutes=minutes),
        renewed_from=renewed_from,
        notice_after=notice_after,
        notice_delayed=notice_delayed,
    )
    renewal = f", renewing grant {renewed_from.pk}" if renewed_from is not None else ""
    renewal += f", approved by {approved_by}" if approved_by else ""
    delayed = (
        f"; owner's notice delayed until {notice_after.isoformat(timespec='minutes')}"
        if notice_delayed
        else ""
    )
    entry = audit_record(
        actor=actor,
        action=AuditEntry.Action.LIVE_FEED,
        reason=(
            f"Live view of camera {camera.pk} ({camera.label}) opened for {minutes} min "
            f"(grant {grant.pk}{renewal}): {reason.label}{delayed}"
        ),
        site=camera.site,
        case=GrantReason(case_number, reason.code),
        note=note,
    )
    grant.audit_entry_id = entry.pk
    grant.save(update_fields=["audit_entry_id"])
    return grant


@transaction.atomic
def grant_open(
    *,
    actor: Actor,
    camera: Camera,
    reason: str,
    case_number: str,
    note: str = "",
    notice_delay_hours: int = 0,
    minutes: int | None = None,
    approval: ApprovalRequest | None = None,
    approved_by: str = "",
) -> Grant:
    """Let the acting staff member watch one camera for one reason and case, for the
    department's grant length (Program.live_grant_minutes), and record it (LIVE_FEED: who, as
    what role, from where, which camera, the reason and case). Refused (GrantRefused, nothing
    written) without the live-view capability, without a reason from the department's list or
    a case number, or when the camera may not be watched now for that reason. An emergency
    reason may hold the owner's notice back by up to 72 hours. The department's guardrails
    (portal.guardrails) may refuse the reason or the length `minutes` (GrantRefused), or want
    another staff member's approval first (guardrails.ApprovalNeeded, nothing written) unless
    `approval` is the approved request."""
    now = timezone.now()
    staff = _staff_of(actor)
    program = current_department().program
    live_reason = _reason_of(program, reason)
    case_number = _case_number(case_number)
    delay = _notice_delay(notice_delay_hours, live_reason)
    minutes = _guarded_minutes(program, live_reason, minutes, approval)
    camera = _shareable(camera, live_reason, now)
    note = _note(note, camera)
    return _grant_create(
        minutes=minutes,
        approved_by=approved_by,
        actor=actor,
        staff=staff,
        camera=camera,
        reason=live_reason,
        case_number=case_number,
        note=note,
        now=now,
        notice_after=now + timedelta(hours=delay),
        notice_delayed=delay > 0,
    )


@transaction.atomic
def grant_renew(
    *, actor: Actor, grant: Grant, reason: str, case_number: str, note: str = ""
) -> Grant:
    """A new grant for the same camera and viewer, with the reason given again (checked as
    when opening); the old one ends as RENEWED. An emergency's delayed notice stays delayed as
    long as the reason is still an emergency."""
    now = timezone.now()
    staff = _staff_of(actor)
    if grant.staff_id != staff.pk:
        raise GrantRefused(_("Only the staff member who opened a live view can renew it."))
    grant = Grant.objects.select_for_update().get(pk=grant.pk)
    if not grant.is_open(now):
        raise GrantRefused(_("This live view has ended: open a new one."))
    program = current_department().program
    live_reason = _reason_of(program, reason)
    case_number = _case_number(case_number)
    try:
        minutes = _guarded_minutes(program, live_reason, None, None)
    except guardrails.ApprovalNeeded as needed:
        raise GrantRefused(
            _("%(rule)s A live view that needs an approval is not renewed: open a new one.")
            % {"rule": needed.message}
        ) from needed
    camera = _shareable(grant.camera, live_reason, now)
    note = _note(note, camera)
    grants_end(grants=Grant.objects.filter(pk=grant.pk), why=Grant.Ended.RENEWED, actor=actor)
    delayed = live_reason.emergency and grant.notice_delayed and grant.notice_after is not None
    return _grant_create(
        actor=actor,
        staff=staff,
        camera=camera,
        reason=live_reason,
        case_number=case_number,
        note=note,
        now=now,
        notice_after=grant.notice_after if delayed and grant.notice_after else now,
        notice_delayed=bool(delayed),
        minutes=minutes,
        renewed_from=grant,
    )


@transaction.atomic
def grant_close(*, actor: Actor, grant: Grant) -> Grant:
    """The viewer closes their live view (nothing happens to one already ended)."""
    staff = actor.as_staff()
    if grant.staff_id != staff.pk:
        raise GrantRefused(_("Only the staff member who opened a live view can close it."))
    grants_end(grants=Grant.objects.filter(pk=grant.pk), why=Grant.Ended.CLOSED, actor=actor)
    grant.refresh_from_db()
    return grant


def grants_expire(*, now: datetime | None = None) -> int:
    """End the open grants past their expiry (each as EXPIRED, at its expiry): a job's sweep,
    so that every expired view has its stop entry even when nobody asked for media."""
    now = now or timezone.now()
    return grants_end(
        grants=Grant.objects.filter(ended_at__isnull=True, expires_at__lte=now),
        why=Grant.Ended.EXPIRED,
    )


def grant_why_stopped(grant: Grant, *, now: datetime | None = None) -> str | None:
    """Why an open grant may no longer be used (a Grant.Ended value), or None while it may: its
    expiry, its viewer's account and capability, and the camera rule for the grant's reason.
    Load the grant with `select_related(*GRANT_CHECK_RELATED)` to answer without queries."""
    now = now or timezone.now()
    if grant.ended_at is not None:
        return grant.ended_why or Grant.Ended.CLOSED
    if grant.expires_at <= now:
        return Grant.Ended.EXPIRED
    if not grant.staff.user.is_active:
        return Grant.Ended.DEACTIVATED
    if not grant.staff.can(Capability.LIVE_VIEW):
        return Grant.Ended.CAPABILITY_LOST
    department = current_department()
    state = rules.camera_live_state(
        grant.camera,
        now=now,
        emergency=grant.emergency,
        program=department.program,
        time_zone=department.time_zone,
    )
    if state.shareable:
        return None
    return ENDED_BY.get(state.code, "")  # "" : refused for now (device offline), not ended


GRANT_CHECK_RELATED = (
    "staff__user",
    *(f"camera__{path}" for path in rules.LIVE_STATE_RELATED),
)


def grant_refresh(*, grant: Grant, now: datetime | None = None) -> Grant:
    """The grant as it stands now: ended (with its stop entry) when something ended it since
    the last check. The viewer's page asks every second."""
    loaded = Grant.objects.select_related(*GRANT_CHECK_RELATED).get(pk=grant.pk)
    why = grant_why_stopped(loaded, now=now)
    if why and loaded.ended_at is None:
        grants_end(grants=Grant.objects.filter(pk=loaded.pk), why=why)
        loaded.refresh_from_db()
    return loaded
