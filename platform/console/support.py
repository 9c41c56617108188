"""Vendor support sessions: the only way vendor staff reach a department's console, and the one
place a session changes. Each change is one transaction, written to the platform audit log and,
once the vendor is in the city, to the city's own audit trail.

How a vendor gets in: the session is requested with a reason on the platform; "Enter" there
makes a single-use link signed for the city's schema (tenants.signing, Link.SUPPORT_ENTRY,
valid two minutes) and sends the browser to the city's host; using it signs the browser in, in
the city's schema, as that vendor's support identity (a city account without a usable password
and a StaffMember of the support role) with the session's id in the session. From then on
console.middleware checks the session on every request and portal.registry.support decides what
the identity may do.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_context

from console.access import vendor_can
from console.audit import platform_audit_record
from console.models import PlatformAuditEntry, SupportSession, VendorCapability
from portal.registry.audit import Actor, audit_record
from portal.registry.emails import email_send
from portal.registry.models import AuditEntry, StaffMember
from portal.registry.support import SupportAccess, support_username
from tenants.models import Department
from tenants.signing import Link, LinkError, link_id, link_read, link_sign

Action = PlatformAuditEntry.Action
CityAction = AuditEntry.Action
# The session key on the city's host naming the support session a browser is in.
SESSION_KEY = "support_session_id"


class SupportRefused(Exception):
    """A support request or action that cannot be done; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _now() -> datetime:
    return timezone.now()


def _vendor_check(vendor: AbstractBaseUser | AnonymousUser) -> None:
    if not vendor_can(vendor, VendorCapability.SUPPORT_SESSIONS):
        raise PermissionDenied


# -- the vendor's side (platform host, public schema) ---------------------------------------


def support_request(
    *,
    vendor: User,
    department: Department,
    reason: str,
    minutes: int | None = None,
    write: bool = False,
) -> SupportSession:
    """Open a support session for `vendor` in `department`: a reason is required, the time is
    SUPPORT_SESSION_MINUTES by default and at most SUPPORT_SESSION_MAX_MINUTES. Asking for
    write access records the wish; only the department's administrator grants it."""
    _vendor_check(vendor)
    reason = " ".join(reason.split())
    if not reason:
        raise SupportRefused("Give the reason for this support session.", "reason")
    if len(reason) < settings.SUPPORT_REASON_MIN_LENGTH:
        raise SupportRefused(
            f"Say what you will do and why, in at least {settings.SUPPORT_REASON_MIN_LENGTH} "
            "characters: the department's administrators read it.",
            "reason",
        )
    minutes = settings.SUPPORT_SESSION_MINUTES if minutes is None else minutes
    if not 1 <= minutes <= settings.SUPPORT_SESSION_MAX_MINUTES:
        raise SupportRefused(
            f"A support session lasts from 1 to {settings.SUPPORT_SESSION_MAX_MINUTES} minutes.",
            "minutes",
        )
    if not Department.objects.serving().filter(pk=department.pk).exists():
        raise SupportRefused(
            "This department's portal is not open (suspended or still being set up): "
            "there is no console to enter."
        )
    now = _now()
    with transaction.atomic():
        session = SupportSession.objects.create(
            vendor=vendor,
            vendor_email=vendor.email,
            department=department,
            reason=reason,
            requested_at=now,
            expires_at=now + timedelta(minutes=minutes),
            write_requested_at=now if write else None,
        )
        platform_audit_record(
            actor=vendor,
            action=Action.SUPPORT_REQUEST,
            department=department,
            detail={
                "session": session.pk,
                "reason": reason,
                "expires_at": session.expires_at.isoformat(),
                "write_requested": write,
            },
        )
    return session


def _own_live(vendor: User, session_id: int) -> SupportSession:
    session = SupportSession.objects.select_for_update().filter(pk=session_id).first()
    if session is None or session.vendor_id != vendor.pk:
        raise PermissionDenied
    if session.ended_at is not None:
        raise SupportRefused("This support session has ended; request a new one.")
    if not session.is_live():
        raise SupportRefused(
            f"This support session expired at {session.expires_at:%H:%M} UTC; request a new one."
        )
    return session


@transaction.atomic
def support_write_request(*, vendor: User, session_id: int) -> SupportSession:
    """Ask the department's administrator for write access in a live session."""
    _vendor_check(vendor)
    session = _own_live(vendor, session_id)
    if session.write_requested_at is None:
        session.write_requested_at = _now()
        session.save(update_fields=["write_requested_at"])
        platform_audit_record(
            actor=vendor,
            action=Action.SUPPORT_REQUEST,
            department=session.department,
            detail={"session": session.pk, "write_requested": True},
        )
    return session


@transaction.atomic
def support_entry_link(*, vendor: User, session_id: int) -> str:
    """A single-use link into the session's city, valid SUPPORT_ENTRY_LINK_SECONDS and only on
    that city's host (its schema is in the signature). A new link replaces the previous one."""
    _vendor_check(vendor)
    session = _own_live(vendor, session_id)
    session.entry_nonce = secrets.token_urlsafe(24)
    session.save(update_fields=["entry_nonce"])
    department = session.department
    with schema_context(department.schema_name):
        token = link_sign(Link.SUPPORT_ENTRY, {"session": session.pk, "nonce": session.entry_nonce})
    return department.url(f"/support/enter/{token}/")


@transaction.atomic
def support_end_by_vendor(*, vendor: User, session_id: int) -> SupportSession:
    _vendor_check(vendor)
    session = _own_live(vendor, session_id)
    return _end(session, why=SupportSession.EndedWhy.VENDOR, by=vendor.email, platform_actor=vendor)


# -- the city's side (the city's host, its schema) ------------------------------------------


@dataclass(frozen=True)
class Entered:
    session: SupportSession
    user: User


def _vendor(session: SupportSession) -> User:
    """The session's vendor account, read in the public schema (a city's auth_user has the
    same ids)."""
    with schema_context("public"):
        return get_user_model().objects.get(pk=session.vendor_id)


def _support_actor(session: SupportSession, member: StaffMember | None, ip: str | None) -> Actor:
    return Actor(
        session.vendor_email,
        StaffMember.Role.SUPPORT,
        ip,
        staff=member,
        support_session_id=session.pk,
    )


def _support_identity(session: SupportSession) -> tuple[User, StaffMember]:
    """The vendor's support account in the current city (created at the first session): no
    usable password, so it signs in only through an entry link."""
    users = get_user_model()
    user, _created = users.objects.get_or_create(
        username=support_username(session.vendor_id),
        defaults={"email": session.vendor_email, "is_active": True},
    )
    if not _created and user.email != session.vendor_email:
        user.email = session.vendor_email
        user.save(update_fields=["email"])
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    member, _made = StaffMember.objects.get_or_create(
        user=user, defaults={"role": StaffMember.Role.SUPPORT}
    )
    if member.role != StaffMember.Role.SUPPORT:
        raise PermissionDenied
    return user, member


ENTRY_REFUSALS = {
    "invalid": "This support link is not valid here.",
    "expired": "This support link has expired: links work for two minutes. Enter again from "
    "the vendor console.",
    "used": "This support link was already used: enter again from the vendor console.",
    "ended": "This support session has ended.",
    "session_expired": "This support session's time is over: request a new one.",
}


def support_enter(*, token: str, department: Department, ip: str | None) -> Entered:
    """Use an entry link in the current city (the request's): LinkError with a reason from
    ENTRY_REFUSALS otherwise. The first entry starts the session: the city's audit trail and
    the platform's log record it and the department's administrators are emailed."""
    payload = link_read(Link.SUPPORT_ENTRY, token)
    session_id = link_id(payload, "session")
    nonce = payload.get("nonce") if isinstance(payload, dict) else None
    with transaction.atomic():
        session = (
            SupportSession.objects.select_for_update()
            .filter(pk=session_id, department_id=department.pk)
            .first()
        )
        if session is None or not isinstance(nonce, str):
            raise LinkError("invalid")
        if session.ended_at is not None:
            raise LinkError("ended")
        if not session.is_live():
            raise LinkError("session_expired")
        if not nonce or not secrets.compare_digest(session.entry_nonce, nonce):
            raise LinkError("used")
        first = session.started_at is None
        session.entry_nonce = ""
        session.started_at = session.started_at or _now()
        session.save(update_fields=["entry_nonce", "started_at"])
        user, member = _support_identity(session)
        until = timezone.localtime(session.expires_at).strftime("%H:%M")
        audit_record(
            actor=_support_actor(session, member, ip),
            action=CityAction.SUPPORT_START,
            reason=(
                f"Support session {session.pk} started ({session.get_access_display()}, "
                f"until {until}): {session.reason}"
                if first
                else f"Support session {session.pk}: signed in again"
            ),
        )
        if first:
            platform_audit_record(
                actor=_vendor(session),
                action=Action.SUPPORT_START,
                department=department,
                detail={"session": session.pk, "vendor": session.vendor_email},
            )
            transaction.on_commit(lambda: _administrators_email(session, department))
    return Entered(session, user)


def _administrators_email(session: SupportSession, department: Department) -> None:
    branding = getattr(department, "branding", None)
    language = branding.default_language if branding else settings.LANGUAGE_CODE
    with schema_context(department.schema_name):
        emails = list(
            StaffMember.objects.filter(
                role=StaffMember.Role.ADMINISTRATOR, user__is_active=True
            ).values_list("user__email", flat=True)
        )
    for email in emails:
        email_send(
            template="console/email/support_started",
            to=email,
            language=language,
            department=department,
            context={
                "session": session,
                "expires_at": timezone.localtime(session.expires_at),
                "sessions_url": department.url("/department/support/"),
            },
        )


def support_access(
    *, session_id: int, department: Department, username: str
) -> SupportAccess | None:
    """The live session a city request is in, or None (ended, expired, another city's or
    another vendor's). An expired session's end is recorded here if nothing recorded it yet."""
    session = SupportSession.objects.filter(pk=session_id, department_id=department.pk).first()
    if session is None or support_username(session.vendor_id) != username:
        return None
    if session.ended_at is None and not session.is_live():
        support_sessions_expire(session_ids=[session.pk])
        return None
    if session.ended_at is not None:
        return None
    return SupportAccess(
        session_id=session.pk,
        vendor_email=session.vendor_email,
        write=session.write,
        expires_at=session.expires_at,
    )


def support_action_record(
    *, access: SupportAccess, method: str, path: str, status: int, ip: str | None
) -> None:
    """Every request a support identity makes that may change something (any method but GET
    and HEAD) is recorded in the city's trail with its answer, whatever the view records."""
    audit_record(
        actor=Actor(
            access.vendor_email,
            StaffMember.Role.SUPPORT,
            ip,
            support_session_id=access.session_id,
        ),
        action=CityAction.SUPPORT_ACTION,
        reason=f"{method} {path[:400]} answered {status}",
    )


def _city_session(department: Department, session_id: int) -> SupportSession:
    session = (
        SupportSession.objects.select_for_update()
        .filter(pk=session_id, department_id=department.pk)
        .first()
    )
    if session is None:
        raise SupportRefused(_("There is no such support session."))
    if session.ended_at is not None or not session.is_live():
        raise SupportRefused(_("This support session has already ended."))
    return session


@transaction.atomic
def support_write_approve(*, actor: Actor, department: Department, session_id: int) -> None:
    """The department's administrator lets a live session write (and read personal data,
    each read audited): portal.registry.support and SUPPORT_WRITE_CAPABILITIES."""
    session = _city_session(department, session_id)
    if session.write:
        raise SupportRefused(_("This support session may already write."))
    if session.write_requested_at is None:
        raise SupportRefused(_("The vendor has not asked for write access in this session."))
    session.access = SupportSession.Access.WRITE
    session.write_approved_at = _now()
    session.approved_by = actor.email
    session.save(update_fields=["access", "write_approved_at", "approved_by"])
    audit_record(
        actor=_with_session(actor, session),
        action=CityAction.SUPPORT_WRITE,
        reason=f"Write access approved for support session {session.pk} ({session.vendor_email})",
    )
    platform_audit_record(
        actor=None,
        action=Action.SUPPORT_WRITE_APPROVED,
        department=department,
        detail={"session": session.pk, "approved_by": actor.email},
    )


@transaction.atomic
def support_end_by_department(*, actor: Actor, department: Department, session_id: int) -> None:
    session = _city_session(department, session_id)
    _end(session, why=SupportSession.EndedWhy.DEPARTMENT, by=actor.email, city_actor=actor)


def _with_session(actor: Actor, session: SupportSession) -> Actor:
    return Actor(
        actor.email,
        actor.role,
        actor.ip_address,
        staff=actor.staff,
        participant=actor.participant,
        support_session_id=session.pk,
    )


def _end(
    session: SupportSession,
    *,
    why: str,
    by: str,
    platform_actor: User | None = None,
    city_actor: Actor | None = None,
    at: datetime | None = None,
) -> SupportSession:
    """Record a session's end (the caller holds its row locked) in both logs. Entered or not,
    the city's trail records it if it started there."""
    session.ended_at = at or _now()
    session.ended_why = why
    session.ended_by = by
    session.entry_nonce = ""
    session.save(update_fields=["ended_at", "ended_why", "ended_by", "entry_nonce"])
    platform_audit_record(
        actor=platform_actor,
        action=Action.SUPPORT_END,
        department=session.department,
        detail={"session": session.pk, "why": why, "by": by},
    )
    if session.started_at is not None:
        actor = (
            _with_session(city_actor, session)
            if city_actor is not None
            else _support_actor(session, None, None)
        )
        with schema_context(session.department.schema_name):
            audit_record(
                actor=actor,
                action=CityAction.SUPPORT_END,
                reason=f"Support session {session.pk} ended: {session.get_ended_why_display()}",
            )
    return session


def support_sessions_expire(*, session_ids: list[int] | None = None) -> int:
    """Record the end of every session past its time that no one ended (at its expiry), once:
    rows are locked and skipped when another run holds them. Returns how many."""
    ended = 0
    with transaction.atomic():
        due = SupportSession.objects.filter(ended_at__isnull=True, expires_at__lte=_now())
        if session_ids is not None:
            due = due.filter(pk__in=session_ids)
        for session in due.select_related("department").select_for_update(
            skip_locked=True, of=("self",)
        ):
            _end(
                session,
                why=SupportSession.EndedWhy.EXPIRED,
                by="",
                at=session.expires_at,
            )
            ended += 1
    return ended
