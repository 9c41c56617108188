"""Every change the department console makes: staff, incidents, canvass states, notices and
footage requests, and the reads of personal data that record themselves (reveal, downloads)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Count, Sum
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import Subscription
from billing.selectors import city_device_subscriptions
from portal.department.clip_types import ClipRefused, clip_type_of
from portal.department.models import (
    CanvassEntry,
    FootageClip,
    Incident,
    Notification,
    NotificationRecipient,
    clip_path,
)
from portal.guardrails import rules as guardrails
from portal.guardrails.models import ApprovalRequest
from portal.registry.audit import Actor, SiteKeys, audit_record, audit_record_sites
from portal.registry.emails import email_message
from portal.registry.models import (
    ASSIGNABLE_ROLES,
    AuditEntry,
    Participant,
    Site,
    SiteQuerySet,
    StaffMember,
)
from portal.registry.signals import StaffAccess, staff_access_changed
from portal.registry.storage import city_path, evidence_storage
from tenants import outbox
from tenants.compiled import CompiledQuery
from tenants.db import tenant_connection
from tenants.models import Department, Program, current_department
from tenants.sessions import sessions_end
from tenants.signing import Link, LinkError, link_id, link_read, password_reset_tokens
from tenants.storage import (
    ForeignFile,
    PrivateFile,
    StorageUnavailable,
    file_discard,
    file_store,
    in_department,
    private_file_open,
    storage_guard,
    stored_names,
)


class AlreadyStaff(Exception):
    """The email already belongs to an account of this department."""


@transaction.atomic
def staff_invite(*, actor: Actor, email: str, role: str) -> StaffMember:
    """Create a staff account without a password and email its owner a link to choose one;
    multi-factor sign-in is set up at the first sign-in."""
    email = email.strip().lower()
    user_model = get_user_model()
    if user_model.objects.filter(email__iexact=email).exists():
        raise AlreadyStaff
    user = user_model.objects.create_user(username=email, email=email)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    member = StaffMember.objects.create(user=user, role=role)
    audit_record(actor=actor, action=AuditEntry.Action.STAFF_INVITE, reason=f"{email} as {role}")
    staff_invitation_send(member=member, department=current_department())
    return member


class StaffChangeRefused(Exception):
    """A change to a staff account that may not be made, with the message to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _staff_change_begin(actor: Actor, member: StaffMember) -> tuple[StaffMember, int]:
    """Lock every administrator and the member (so that two administrators demoting or
    deactivating each other at once cannot leave the department with none), check that the
    actor is still an active administrator, and return the member as it is now, with how many
    other active administrators there are."""
    acting = actor.as_staff()
    administrators = [
        administrator.pk
        for administrator in StaffMember.objects.select_for_update(of=("self",))
        .filter(role=StaffMember.Role.ADMINISTRATOR, user__is_active=True)
        .order_by("pk")
    ]
    if acting.pk not in administrators:
        raise StaffChangeRefused(_("Only an active administrator can change staff accounts."))
    member = (
        StaffMember.objects.select_for_update(of=("self",)).select_related("user").get(pk=member.pk)
    )
    return member, sum(1 for pk in administrators if pk != member.pk)


def _last_administrator_check(
    actor: Actor, member: StaffMember, others: int, *, yourself: str
) -> None:
    """Refuse taking an administrator's rights away when it would leave the department with no
    active administrator, and from oneself (another administrator must do it)."""
    if member.role != StaffMember.Role.ADMINISTRATOR or not member.user.is_active:
        return
    if others == 0:
        raise StaffChangeRefused(
            _(
                "%(email)s is the department's last administrator: make another staff "
                "member administrator first."
            )
            % {"email": member.user.email}
        )
    if member.pk == actor.as_staff().pk:
        raise StaffChangeRefused(yourself)


@transaction.atomic
def staff_role_set(*, actor: Actor, member: StaffMember, role: str) -> StaffMember:
    """Give a staff member another role. What they held by the old role and may not do in the
    new one ends at once (live view's open grants, through staff_access_changed)."""
    if role not in dict(ASSIGNABLE_ROLES):
        raise StaffChangeRefused(_("Choose one of the department's roles."))
    member, others = _staff_change_begin(actor, member)
    role_name = StaffMember.Role(role).label
    if member.role == role:
        raise StaffChangeRefused(
            _("%(email)s is already %(role)s.") % {"email": member.user.email, "role": role_name}
        )
    if role != StaffMember.Role.ADMINISTRATOR:
        _last_administrator_check(
            actor,
            member,
            others,
            yourself=_(
                "You cannot give up your own administrator role: another administrator can."
            ),
        )
    previous = member.role
    member.role = role
    member.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.STAFF_ROLE_CHANGE,
        reason=f"{member.user.email} from {previous} to {role}",
    )
    staff_access_changed.send(
        sender=StaffMember, member=member, why=StaffAccess.ROLE_CHANGED, actor=actor
    )
    return member


@transaction.atomic
def staff_deactivate(*, actor: Actor, member: StaffMember) -> StaffMember:
    """Close a staff account without deleting it (their name stays on what they did): they
    cannot sign in, every session of theirs in this city ends, and so does what they held
    (live view's open grants, through staff_access_changed)."""
    member, others = _staff_change_begin(actor, member)
    user = member.user
    if not user.is_active:
        raise StaffChangeRefused(
            _("The account of %(email)s is already deactivated.") % {"email": user.email}
        )
    _last_administrator_check(
        actor, member, others, yourself=_("You cannot deactivate your own account.")
    )
    user.is_active = False
    user.save(update_fields=["is_active"])
    sessions_end(user_id=user.pk)
    audit_record(actor=actor, action=AuditEntry.Action.STAFF_DEACTIVATE, reason=user.email)
    staff_access_changed.send(
        sender=StaffMember, member=member, why=StaffAccess.DEACTIVATED, actor=actor
    )
    return member


@transaction.atomic
def staff_reactivate(*, actor: Actor, member: StaffMember) -> StaffMember:
    """Let a deactivated staff member sign in again, with the role they had."""
    member, _others = _staff_change_begin(actor, member)
    user = member.user
    if user.is_active:
        raise StaffChangeRefused(
            _("The account of %(email)s is already active.") % {"email": user.email}
        )
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(actor=actor, action=AuditEntry.Action.STAFF_REACTIVATE, reason=user.email)
    return member


def staff_invitation_send(*, member: StaffMember, department: Department) -> None:
    """Email a staff member, once the current transaction commits, a link on the department's
    own domain to choose their password (the password-reset link, which works once and only
    in this department: the key names its city)."""
    user = member.user
    link = department.url(
        reverse(
            "account_reset_password_from_key",
            kwargs={
                "uidb36": user_pk_to_url_str(user),
                "key": password_reset_tokens.make_token(user),
            },
            urlconf=settings.ROOT_URLCONF,
        )
    )
    branding = getattr(department, "branding", None)
    message = email_message(
        template="department/email/invitation",
        to=user.email,
        language=branding.default_language if branding else settings.LANGUAGE_CODE,
        context={"link": link, "role": member.get_role_display()},
        department=department,
    )
    transaction.on_commit(message.send)
    StaffMember.objects.filter(pk=member.pk).update(invitation_sent_at=timezone.now())


# How long after an invitation email another may be sent to the same person: enough to stop a
# double click or a flood of emails to one address, short enough for a lost email.
INVITATION_RESEND_AFTER = timedelta(minutes=10)


def _pending_invitation(actor: Actor, member: StaffMember) -> StaffMember:
    """The invited member, locked, after the checks every invitation change makes: an active
    administrator acts, and the member is still pending (never signed in, no password)."""
    member, _others = _staff_change_begin(actor, member)
    if not member.is_pending:
        raise StaffChangeRefused(
            _("%(email)s has already accepted the invitation.") % {"email": member.user.email}
        )
    if not member.user.is_active:
        raise StaffChangeRefused(
            _("The account of %(email)s is deactivated.") % {"email": member.user.email}
        )
    return member


@transaction.atomic
def staff_invitation_resend(
    *, actor: Actor, member: StaffMember, department: Department
) -> StaffMember:
    """Email a pending invitee a new link, at most once per INVITATION_RESEND_AFTER."""
    member = _pending_invitation(actor, member)
    sent = member.invitation_sent_at
    if sent is not None and timezone.now() - sent < INVITATION_RESEND_AFTER:
        raise StaffChangeRefused(
            _(
                "An invitation went to %(email)s less than %(minutes)s minutes ago: check the "
                "spam folder, or send it again later."
            )
            % {
                "email": member.user.email,
                "minutes": int(INVITATION_RESEND_AFTER.total_seconds() // 60),
            }
        )
    staff_invitation_send(member=member, department=department)
    audit_record(
        actor=actor, action=AuditEntry.Action.STAFF_INVITE_RESEND, reason=member.user.email
    )
    member.refresh_from_db(fields=["invitation_sent_at"])
    return member


@transaction.atomic
def staff_invitation_revoke(*, actor: Actor, member: StaffMember) -> str:
    """Withdraw an invitation nobody accepted: the account is deleted with everything it held
    (nothing but its email address: it never signed in), so its link no longer works.
    Returns the email the invitation was for."""
    member = _pending_invitation(actor, member)
    email = member.user.email
    member.user.delete()
    audit_record(actor=actor, action=AuditEntry.Action.STAFF_INVITE_REVOKE, reason=email)
    return email


class YardSignRefused(Exception):
    """A yard sign that cannot be marked delivered, with the message to show."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@transaction.atomic
def yard_sign_delivered(*, actor: Actor, site: Site) -> Site:
    """Record that the department delivered the sign a site's owner asked for: when and by
    whom, on the site and in the audit trail (an entry about the owner's site)."""
    site = Site.objects.select_for_update().get(pk=site.pk)
    if not site.yard_sign_requested:
        raise YardSignRefused(_("No yard sign was requested for this site."))
    if site.yard_sign_delivered_at is not None:
        raise YardSignRefused(_("This yard sign is already marked delivered."))
    site.yard_sign_delivered_at = timezone.now()
    site.yard_sign_delivered_by = actor.as_staff()
    site.save(update_fields=["yard_sign_delivered_at", "yard_sign_delivered_by", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.YARD_SIGN_DELIVERED,
        reason=f"Yard sign delivered to site {site.pk}",
        site=site,
    )
    return site


def yard_signs_viewed(*, actor: Actor, sites: Sequence[Site], delivered: bool) -> None:
    """Record that the actor saw these sites' yard-sign addresses (one entry per viewing of
    the list, none when it shows nothing)."""
    if sites:
        which = "delivered" if delivered else "to deliver"
        audit_record(
            actor=actor,
            action=AuditEntry.Action.YARD_SIGNS_VIEW,
            reason=f"Yard-sign list ({which}) with {len(sites)} addresses",
        )


def yard_signs_for_export(*, actor: Actor, sites: Sequence[SiteKeys], delivered: bool) -> None:
    """Record a yard-sign list export, one entry per site so that each owner sees it."""
    which = "delivered" if delivered else "to deliver"
    audit_record_sites(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        reason=f"Yard-sign list export (CSV, {which})",
        case=None,
        sites=sites,
    )


@transaction.atomic
def incident_open(
    *,
    actor: Actor,
    kind: str,
    category: str,
    case_number: str,
    address: str,
    latitude: float,
    longitude: float,
    starts_at: datetime,
    ends_at: datetime,
    radius_m: int,
) -> Incident:
    """Open a case; refused (guardrails.GuardrailRefused, nothing written) when its canvass
    would search wider or longer than the department allows for its offence type."""
    factor = Incident.MISSING_PERSON_RADIUS_FACTOR if kind == Incident.Kind.MISSING_PERSON else 1
    guardrails.canvass_check(
        program=current_department().program,
        category=category,
        radius_searched_m=radius_m * factor,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    return Incident.objects.create(
        opened_by_id=actor.as_staff().user_id,
        kind=kind,
        category=category,
        case_number=case_number,
        address=address,
        latitude=latitude,
        longitude=longitude,
        starts_at=starts_at,
        ends_at=ends_at,
        radius_m=radius_m,
    )


class IncidentClosed(Exception):
    """The case is closed: nobody is contacted about it until it is reopened."""


def incident_open_check(incident: Incident) -> None:
    """Refuse contact with owners (reveal, notice, footage request) about a closed case."""
    if incident.is_closed:
        raise IncidentClosed


# What staff may change of an open case: its words and its time window (the place and the
# radius decide who was searched and notified; a new place is a new incident).
INCIDENT_EDITABLE = ("case_number", "category", "description", "starts_at", "ends_at")


@transaction.atomic
def incident_edit(
    *,
    actor: Actor,
    incident: Incident,
    case_number: str,
    category: str,
    description: str,
    starts_at: datetime,
    ends_at: datetime,
) -> Incident:
    """Change a case's number, offense type, description or time window; one audit entry
    names the fields changed (before and after, the description's words excepted). A time
    window or offense type the department's guardrails refuse raises GuardrailRefused and
    nothing changes. Nothing changed: nothing recorded."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    wanted = {
        "case_number": case_number,
        "category": category,
        "description": description,
        "starts_at": starts_at,
        "ends_at": ends_at,
    }
    changed = [name for name in INCIDENT_EDITABLE if getattr(incident, name) != wanted[name]]
    if not changed:
        return incident
    guardrails.canvass_check(
        program=current_department().program,
        category=category,
        radius_searched_m=incident.search_radius_m,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    what = []
    for name in changed:
        if name == "description":
            what.append("description")
        else:
            what.append(f"{name} {_shown(getattr(incident, name))} -> {_shown(wanted[name])}")
        setattr(incident, name, wanted[name])
    incident.save(update_fields=changed)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.INCIDENT_EDIT,
        reason=f"Incident {incident.pk} edited: " + "; ".join(what),
        case=incident,
    )
    return incident


def _shown(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


class IncidentStateUnchanged(Exception):
    """Closing a closed case or reopening an open one (a second click): nothing to do."""


@transaction.atomic
def incident_close(*, actor: Actor, incident: Incident) -> Incident:
    """Close a case: from then on nobody is contacted about it; recorded."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.is_closed:
        raise IncidentStateUnchanged
    incident.closed_at = timezone.now()
    incident.save(update_fields=["closed_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.INCIDENT_CLOSE,
        reason=f"Incident {incident.pk} closed",
        case=incident,
    )
    return incident


@transaction.atomic
def incident_reopen(*, actor: Actor, incident: Incident) -> Incident:
    """Reopen a closed case; recorded."""
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if not incident.is_closed:
        raise IncidentStateUnchanged
    incident.closed_at = None
    incident.save(update_fields=["closed_at"])
    audit_record(
        actor=actor,
        action=AuditEntry.Action.INCIDENT_REOPEN,
        reason=f"Incident {incident.pk} reopened",
        case=incident,
    )
    return incident


@transaction.atomic
def canvass_entry_update(*, incident: Incident, site: Site, state: str, notes: str) -> CanvassEntry:
    entry, _created = CanvassEntry.objects.update_or_create(
        incident=incident, site=site, defaults={"state": state, "notes": notes}
    )
    return entry


@transaction.atomic
def contact_reveal(
    *,
    actor: Actor,
    site: Site,
    incident: Incident,
    note: str = "",
    approval: ApprovalRequest | None = None,
    approved_by: str = "",
) -> Site:
    """Show a site's contact details on purpose: the reveal is recorded, with the incident's
    offence type and case number and the staff member's note, before they are shown. A note
    naming the owner is refused (audit.NoteNamesOwner) and nothing is recorded. Where the
    department's guardrails want another staff member's approval first, guardrails.ApprovalNeeded
    is raised (nothing recorded) unless `approval` is the approved request, whose approver
    (`approved_by`) the entry names."""
    incident_open_check(incident)
    guardrails.reveal_check(actor=actor, approval=approval)
    approved = f"; approved by {approved_by} (approval request {approval.pk})" if approval else ""
    audit_record(
        actor=actor,
        action=AuditEntry.Action.REVEAL,
        reason=f"Contact details for case {incident.case_number}{approved}",
        site=site,
        case=incident,
        note=note,
    )
    return site


# A visit to an incident's canvass: one staff member's look at it, recorded once; a new visit
# starts when this long has passed since the last recorded one (the staff idle limit), so an
# afternoon's casework on one page gives a few entries, not one per saved canvass state.
CANVASS_VISIT = timedelta(minutes=30)


# Whether the actor recorded a canvass view of the incident since a time: asked on every
# canvass page, so kept compiled (tenants.compiled).
CANVASS_VISITED = CompiledQuery(
    lambda actor_email, incident_id, since: (
        AuditEntry.objects.filter(
            action=AuditEntry.Action.CANVASS_VIEW,
            actor_email=actor_email,
            incident_id=incident_id,
            at__gte=since,
        )
        # Whether one exists: any of them, read from the visits' index (auditentry_canvass_visit).
        .order_by()
        .values_list("pk")[:1]
    ),
    actor_email=str,
    incident_id=int,
    since=datetime,
)


def canvass_viewed(*, actor: Actor, incident: Incident, site_count: int) -> bool:
    """Record that the actor saw the canvass's addresses, once per visit; True when recorded.
    Two requests racing at a visit's start may both record it: more entries, never fewer.
    No transaction around it: its one write is one statement, and a transaction would not
    stop the race (it costs every canvass page two more statements)."""
    if not site_count:
        return False  # an empty canvass shows no address
    if CANVASS_VISITED.rows(
        actor_email=actor.email, incident_id=incident.pk, since=timezone.now() - CANVASS_VISIT
    ):
        return False
    audit_record(
        actor=actor,
        action=AuditEntry.Action.CANVASS_VIEW,
        reason=f"Canvass of {site_count} sites with addresses for case {incident.case_number}",
        case=incident,
    )
    return True


def map_sites_located(
    *,
    actor: Actor,
    sites: SiteQuerySet,
    box: tuple[float, float, float, float],
    limit: int,
) -> list[Site]:
    """The sites in the box at their exact positions, for staff with personal-data access
    only; the request is one audit entry (not one per site: the map pans and zooms all the
    time), and none when the box holds no site."""
    if actor.staff is None or not actor.staff.sees_personal_data:
        raise PermissionDenied
    south, west, north, east = box
    located = list(
        sites.filter(
            latitude__range=(south, north), longitude__range=(west, east)
        ).with_active_cameras()[:limit]
    )
    if located:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.MAP_VIEW,
            reason=(
                f"Map: {len(located)} exact site locations in "
                f"{south:.5f},{west:.5f},{north:.5f},{east:.5f}"
            ),
        )
    return located


@transaction.atomic
def offence_types_set(*, program: Program, offence_types: list[dict[str, str]]) -> None:
    """Replace the department's offence types (validated by OffenceTypesForm). Incidents and
    audit entries keep the codes they were given; a code no longer listed shows as itself."""
    program.offence_types = offence_types
    program.save(update_fields=["offence_types"])


def clip_limits_set(*, program: Program, clips: int, megabytes: int) -> None:
    """How many files, and how many megabytes in all, one answer link may bring (checked by
    clip_upload while the link's row is locked)."""
    program.clips_per_link_max = clips
    program.clip_bytes_per_link_max = megabytes * 1024**2
    program.full_clean(validate_unique=False, validate_constraints=False)
    program.save(update_fields=["clips_per_link_max", "clip_bytes_per_link_max"])


def reply_to_set(*, program: Program, email: str) -> None:
    """Where answers to the department's emails go (validated by ReplyToForm; empty: no
    Reply-To). Every email sent from then on carries it (tenants.mail)."""
    program.reply_to_email = email
    program.full_clean(validate_unique=False, validate_constraints=False)
    program.save(update_fields=["reply_to_email"])


def distance_units_set(*, program: Program, units: str) -> None:
    """How the department's distances are written and typed from now on (tenants.units);
    stored distances stay in meters."""
    program.distance_units = units
    program.full_clean(validate_unique=False, validate_constraints=False)
    program.save(update_fields=["distance_units"])


def notify_area_enqueue(notification: Notification) -> None:
    """Queue the notification's emails through the transactional outbox (tenants.outbox): the
    outbox row commits with the notification, and the broker gets the job after the commit,
    or, if the broker (Redis) is down then, from the outbox job once it is back. notify_area
    sends each owner's copy at most once however often it runs."""
    outbox.enqueue(
        "portal.department.tasks.notify_area",
        [notification.pk],
        subject=notification_outbox_subject(notification.pk),
    )


def notification_outbox_subject(notification_id: int) -> str:
    """The outbox's name for a notification's delivery job (the incident page reads it)."""
    return f"notification:{notification_id}"


def notification_queued(notification_ids: list[int]) -> set[int]:
    """Which of these notifications still wait in the outbox for the broker: recorded, their
    emails not yet handed to the workers (Redis down); the outbox job sends them on."""
    subjects = {notification_outbox_subject(pk): pk for pk in notification_ids}
    return {subjects[subject] for subject in outbox.undispatched_subjects(list(subjects))}


@dataclass(frozen=True)
class NoticeSent:
    """What notification_send did: the notice, and whether this call created it (False when
    its key had already sent one: a double click sends once)."""

    notification: Notification
    created: bool


@transaction.atomic
def notification_send(
    *, actor: Actor, incident: Incident, message: str, key: str | None = None
) -> NoticeSent:
    """Record and queue a 'check your camera' notice to the owners within the radius the
    incident's canvass searched (Incident.search_radius_m) who were not contacted about the
    case before (selectors.area_notice_owners); the job emails each owner once. `key`, the
    confirmation page's one-time key, makes the call idempotent: a key that already sent a
    notice returns that notice, and nothing is sent or recorded again. Refused (IncidentClosed)
    for a closed case."""
    # One sender at a time per incident: the same key sent twice at once finds the first.
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if key:
        already = Notification.objects.filter(send_key=key).first()
        if already is not None:
            if already.incident_id != incident.pk:
                raise PermissionDenied  # a key is one confirmation page's, for its incident
            return NoticeSent(already, created=False)
    incident_open_check(incident)
    radius_m = incident.search_radius_m
    notification = Notification.objects.create(
        incident=incident,
        kind=Notification.Kind.AREA,
        message=message,
        radius_m=radius_m,
        created_by_id=actor.as_staff().user_id,
        send_key=key or None,
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.NOTIFY,
        reason=f"Check-your-camera notice, {radius_m} m",
        case=incident,
    )
    notify_area_enqueue(notification)
    return NoticeSent(notification, created=True)


class OwnerUnreachable(Exception):
    """The owner's email address was reported undeliverable (portal.registry.bounces)."""


@transaction.atomic
def footage_request(*, actor: Actor, incident: Incident, site: Site, message: str) -> Notification:
    """Ask one site's owner for footage for the case: recorded, queued and answered like a
    notice, with its own words. Refused (OwnerUnreachable) when the owner's address is known
    to be undeliverable: nothing is recorded, staff call instead."""
    incident_open_check(incident)
    if not site.participant.email_deliverable:
        raise OwnerUnreachable
    notification = Notification.objects.create(
        incident=incident,
        kind=Notification.Kind.FOOTAGE_REQUEST,
        site=site,
        message=message,
        created_by_id=actor.as_staff().user_id,
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.FOOTAGE_REQUEST,
        reason=f"Footage request for case {incident.case_number}",
        site=site,
        case=incident,
    )
    entry, _created = CanvassEntry.objects.get_or_create(incident=incident, site=site)
    if entry.state == CanvassEntry.State.NOT_CONTACTED:
        entry.state = CanvassEntry.State.CONTACTED
        entry.save(update_fields=["state", "updated_at"])
    notify_area_enqueue(notification)
    return notification


def recipient_from_token(token: str) -> NotificationRecipient:
    """The recipient an answer link is for, in this city; LinkError when it cannot be used."""
    payload = link_read(Link.ANSWER, token)
    recipient = (
        NotificationRecipient.objects.select_related("notification__incident")
        .filter(pk=link_id(payload, "r"))
        .first()
    )
    if recipient is None:
        raise LinkError("invalid")
    return recipient


class AlreadyAnswered(Exception):
    pass


class AnswerFinal(Exception):
    """The department has downloaded a clip sent with this answer: it can no longer change."""

    @property
    def message(self) -> str:
        return _(
            "The department has already downloaded the footage you sent for this request, so "
            "your answer can no longer be changed. Call the department if something is wrong."
        )


def answer_is_final(recipient: NotificationRecipient) -> bool:
    """THE rule of a changed answer: an owner may change their answer until the department
    downloads a clip they sent with it (FootageClip.first_downloaded_at, set by clip_open)."""
    return recipient.clips.filter(first_downloaded_at__isnull=False).exists()


@transaction.atomic
def notification_answer(
    *,
    recipient: NotificationRecipient,
    answer: str,
    actor: Actor | None = None,
) -> None:
    """The owner's answer. Without an actor (the emailed link's first answer) an answer is
    given once (AlreadyAnswered after that); with the owner as actor (signed in, or the link's
    "change my answer") it may change, recorded in the audit trail, until the department has
    downloaded a clip sent with it (AnswerFinal)."""
    recipient = (
        NotificationRecipient.objects.select_for_update(of=("self",))
        .select_related("notification__incident", "notification__site")
        .get(pk=recipient.pk)
    )
    if recipient.answer and actor is None:
        raise AlreadyAnswered
    if recipient.answer == answer:
        return
    if recipient.answer and answer_is_final(recipient):
        raise AnswerFinal
    previous = recipient.answer
    recipient.answer, recipient.answered_at = answer, timezone.now()
    recipient.save(update_fields=["answer", "answered_at"])
    if actor is not None and previous:
        notification = recipient.notification
        site = notification.site
        own_site = (
            site if site is not None and site.participant_id == recipient.participant_id else None
        )
        audit_record(
            actor=actor,
            action=AuditEntry.Action.ANSWER_CHANGE,
            reason=f"Answer to {notification.kind} {notification.pk} changed: "
            f"{previous} to {answer}",
            site=own_site,
            participant=recipient.participant if own_site is None else None,
            case=notification.incident,
        )


# What an owner's file is called on screen: enough to recognise it, no more.
CLIP_NAME_MAX = 100


def clip_upload(
    *,
    recipient: NotificationRecipient,
    upload: UploadedFile,
    program: Program,
    ip_address: str | None,
) -> FootageClip:
    """Keep an owner's clip in private storage under the city's prefix, with its SHA-256 taken
    over the bytes as stored, its type sniffed from its content, within the answer link's
    limits (ClipRefused says why not). All or nothing: the file is stored first, then its row
    is committed; a file whose row is not committed is deleted, whatever failed (file_discard:
    logged as an orphan if the storage fails that too). A storage that cannot keep the file
    raises StorageUnavailable, and no row is written."""
    size = upload.size or 0
    clip_type = clip_type_of(upload, size)
    storage = evidence_storage()
    stored = ""
    try:
        # Durable: when this block ends the row is committed, so a file kept is a file recorded.
        with transaction.atomic(durable=True):
            # One upload at a time per link, so that two at once cannot both pass the limits.
            recipient = (
                NotificationRecipient.objects.select_for_update()
                .select_related("notification__incident")
                .get(pk=recipient.pk)
            )
            _clip_limits_check(recipient=recipient, size=size, program=program)
            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            clip = FootageClip(
                incident=recipient.notification.incident,
                recipient=recipient,
                original_name=_display_name(upload.name or ""),
                content_type=clip_type.content_type,
                size=size,
                sha256=digest.hexdigest(),
                uploaded_from=ip_address,
            )
            stored = file_store(storage, clip_path(clip, clip_type.extension), upload)
            clip.file.name = stored
            clip.save()
    except BaseException:
        if stored:
            file_discard(storage, stored)
        raise
    return clip


# A footage file no clip names is deleted only once it is this old: an upload stores its file
# just before its row commits, and that file must not go meanwhile.
FOOTAGE_ORPHAN_AGE = timedelta(hours=1)


def footage_orphans_sweep(*, now: datetime) -> int:
    """Delete the files under this city's `footage/` folder that no clip names and that are
    older than FOOTAGE_ORPHAN_AGE: what an upload left when its row failed and the storage
    failed the deletion too (logged then as `storage_orphan`). Returns how many went; safe to
    run again. A storage that does not answer raises StorageUnavailable (the job fails and the
    next run tries again)."""
    storage = evidence_storage()
    folder = city_path("footage")
    cutoff = now - FOOTAGE_ORPHAN_AGE
    removed = 0
    with storage_guard("sweep", folder):
        named = set(FootageClip.objects.values_list("file", flat=True))
        for name in list(stored_names(storage, folder)):
            if name in named or storage.get_modified_time(name) >= cutoff:
                continue
            storage.delete(name)
            removed += 1
    return removed


def _clip_limits_check(*, recipient: NotificationRecipient, size: int, program: Program) -> None:
    sent = recipient.clips.aggregate(count=Count("pk"), total=Sum("size"))
    if sent["count"] >= program.clips_per_link_max:
        raise ClipRefused(
            ngettext(
                "This link has taken %(count)s file, the most it takes. Call the department "
                "if you have more to send.",
                "This link has taken %(count)s files, the most it takes. Call the department "
                "if you have more to send.",
                sent["count"],
            )
            % {"count": sent["count"]}
        )
    total = (sent["total"] or 0) + size
    if total > program.clip_bytes_per_link_max:
        raise ClipRefused(
            _(
                "With this file, what you sent through this link would come to %(total)s; it "
                "takes at most %(limit)s. Send a shorter clip, or call the department."
            )
            % {
                "total": filesizeformat(total),
                "limit": filesizeformat(program.clip_bytes_per_link_max),
            }
        )


def _display_name(name: str) -> str:
    """The uploader's file name as display metadata only: no folders, no control characters,
    short."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(character for character in name if character.isprintable()).strip()
    return name[:CLIP_NAME_MAX] or "clip"


def clip_open(*, actor: Actor, clip: FootageClip, inline: bool = False) -> PrivateFile:
    """Hand a clip to staff; each download is a custody record in the audit trail, written
    before the file is handed out. Always as an attachment (never shown on the city's origin):
    streamed, or on S3 a URL signed for a minute (tenants.storage.private_file_open). A row
    naming a file outside this city's folder is refused (ForeignFile) before anything is
    recorded or handed out.

    Every attempt is recorded: the file is opened (or, on S3, found) first, then the entry
    written says what happened, DOWNLOAD when the file is handed out, DOWNLOAD_FAILED when the
    storage could not give it (unreachable, full or the file missing), and StorageUnavailable
    is raised for the caller to say so. An entry that cannot be written hands nothing out.

    `inline` hands it out to be shown on the page (the canvass's preview of an image or a
    video): recorded as a download all the same, the entry saying it was a preview."""
    schema_name = tenant_connection.schema_name
    if not in_department(schema_name, clip.file.name):
        raise ForeignFile(clip.file.name)
    # Never its name: personal data.
    reason = f"Clip {clip.pk} sha256 {clip.sha256}" + (" (preview)" if inline else "")
    try:
        handout = private_file_open(
            schema_name=schema_name,
            name=clip.file.name,
            download_name=clip.download_name,
            content_type=clip.content_type,
            inline=inline,
        )
    except StorageUnavailable as failure:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.DOWNLOAD_FAILED,
            reason=f"{reason}: storage {failure.kind}, nothing handed out",
            case=clip.incident,
        )
        raise
    try:
        with transaction.atomic():
            # The owner's answer is final from the first download (answer_is_final): the
            # answer's row is locked first, so that a change of answer and a download never
            # pass each other.
            if clip.recipient_id is not None:
                list(
                    NotificationRecipient.objects.select_for_update()
                    .filter(pk=clip.recipient_id)
                    .values_list("pk", flat=True)
                )
            audit_record(
                actor=actor, action=AuditEntry.Action.DOWNLOAD, reason=reason, case=clip.incident
            )
            FootageClip.objects.filter(pk=clip.pk, first_downloaded_at__isnull=True).update(
                first_downloaded_at=timezone.now()
            )
    except BaseException:
        if handout.stream is not None:
            handout.stream.close()
        raise
    return handout


def clip_names_forget(*, participant: Participant, **_signal: object) -> int:
    """An owner who opts out takes their personal data along, and a file name may be some
    ("Alice Moreno's porch.mp4"): their clips get neutral names. The clips stay with the case
    (registry's participant_opting_out signal, inside the opt-out's transaction)."""
    clips = list(FootageClip.objects.filter(recipient__participant=participant))
    for clip in clips:
        clip.original_name = clip.neutral_name
    FootageClip.objects.bulk_update(clips, ["original_name"])
    return len(clips)


def canvass_for_export(*, actor: Actor, incident: Incident, sites: Sequence[SiteKeys]) -> None:
    """Record a canvass export, one entry per site so that each owner sees it among theirs."""
    audit_record_sites(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        reason=f"Canvass export for case {incident.case_number}",
        case=incident,
        sites=sites,
    )


def first_administrator_appoint(
    *, department: Department, user: AbstractBaseUser, invited: bool, **_signal: object
) -> StaffMember:
    """A provisioned department's first account becomes its administrator; when it has no
    password yet, its owner is emailed the link to choose one (tenants' provisioning signal)."""
    member, _created = StaffMember.objects.get_or_create(
        user=user, defaults={"role": StaffMember.Role.ADMINISTRATOR}
    )
    if invited:
        staff_invitation_send(member=member, department=department)
    return member


@dataclass(frozen=True)
class DeviceSubscription:
    """What a department's administrators see of a device subscription: never card or payment
    details (no amounts, no customer email, no Stripe ids)."""

    site_id: int
    site_address: str
    plan: str
    status: str
    renews_on: datetime | None
    ends_with_period: bool
    complimentary_until: datetime | None
    device: str


# Subscriptions on one page of the department's list.
DEVICE_SUBSCRIPTIONS_PAGE_SIZE = 50


@transaction.atomic
def device_subscriptions_view(
    *, actor: Actor, department: Department, page: str | None = None
) -> tuple[list[DeviceSubscription], Page[Subscription]]:
    """One page of the city's device subscriptions with their sites' addresses (the rows, and
    the page for its navigation), recorded as a read of addresses (one entry per viewing, none
    when there is nothing to show)."""
    listed = Paginator(
        city_device_subscriptions(department), DEVICE_SUBSCRIPTIONS_PAGE_SIZE
    ).get_page(page)
    rows = [
        DeviceSubscription(
            site_id=subscription.site_id,
            site_address=subscription.site_address,
            plan=subscription.plan.name,
            status=subscription.get_status_display(),
            renews_on=subscription.current_period_end,
            ends_with_period=subscription.cancel_at_period_end,
            complimentary_until=subscription.complimentary_until,
            device=subscription.fulfilment.get_state_display()
            if hasattr(subscription, "fulfilment")
            else "",
        )
        for subscription in listed
    ]
    if rows:
        audit_record(
            actor=actor,
            action=AuditEntry.Action.SUBSCRIPTIONS_VIEW,
            reason=f"Device subscriptions of {len(rows)} sites with addresses",
        )
    return rows, listed


def geocoder_set(*, program: Program, choice: str) -> None:
    """Which service finds places by address for the department (validated by
    GeocoderChoiceForm); the next search uses it."""
    program.geocoder = choice
    program.full_clean(validate_unique=False, validate_constraints=False)
    program.save(update_fields=["geocoder"])
