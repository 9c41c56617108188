"""Every change the department console makes: staff, incidents, canvass states, notices and
footage requests, and the reads of personal data that record themselves (reveal, downloads)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from portal.department.models import (
    CanvassEntry,
    FootageClip,
    Incident,
    Notification,
    NotificationRecipient,
)
from portal.registry.audit import Actor, audit_record, audit_record_sites
from portal.registry.emails import email_message
from portal.registry.models import AuditEntry, Site, StaffMember
from tenants.models import Department


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
    staff_invitation_send(member=member, department=connection.tenant)
    return member


def staff_invitation_send(*, member: StaffMember, department: Department) -> None:
    """Email a staff member, once the current transaction commits, a link on the department's
    own domain to choose their password (the password-reset link, which works once)."""
    user = member.user
    link = department.url(
        reverse(
            "account_reset_password_from_key",
            kwargs={
                "uidb36": user_pk_to_url_str(user),
                "key": default_token_generator.make_token(user),
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


@transaction.atomic
def incident_open(
    *,
    actor: Actor,
    kind: str,
    case_number: str,
    address: str,
    latitude: float,
    longitude: float,
    starts_at: datetime,
    ends_at: datetime,
    radius_m: int,
) -> Incident:
    return Incident.objects.create(
        opened_by_id=actor.user_id,
        kind=kind,
        case_number=case_number,
        address=address,
        latitude=latitude,
        longitude=longitude,
        starts_at=starts_at,
        ends_at=ends_at,
        radius_m=radius_m,
    )


@transaction.atomic
def canvass_entry_update(*, incident: Incident, site: Site, state: str, notes: str) -> CanvassEntry:
    entry, _created = CanvassEntry.objects.update_or_create(
        incident=incident, site=site, defaults={"state": state, "notes": notes}
    )
    return entry


@transaction.atomic
def contact_reveal(*, actor: Actor, site: Site, incident: Incident | None, reason: str) -> Site:
    """Show a site's contact details on purpose: the reveal is recorded before they are shown."""
    audit_record(
        actor=actor,
        action=AuditEntry.Action.REVEAL,
        reason=reason or (f"Case {incident.case_number}" if incident else ""),
        site=site,
        case=incident,
    )
    return site


@transaction.atomic
def notification_send(*, actor: Actor, incident: Incident, message: str) -> Notification:
    """Record and queue a 'check your camera' notice to every owner within the radius the
    incident's canvass searched (Incident.search_radius_m); the job emails each owner once."""
    from portal.department.tasks import notify_area

    radius_m = incident.search_radius_m
    notification = Notification.objects.create(
        incident=incident,
        kind=Notification.Kind.AREA,
        message=message,
        radius_m=radius_m,
        created_by_id=actor.user_id,
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.NOTIFY,
        reason=f"Check-your-camera notice, {radius_m} m",
        case=incident,
    )
    transaction.on_commit(lambda: notify_area.delay(notification.pk))
    return notification


@transaction.atomic
def footage_request(*, actor: Actor, incident: Incident, site: Site, message: str) -> Notification:
    """Ask one site's owner for footage for the case: recorded, queued and answered like a
    notice, with its own words."""
    from portal.department.tasks import notify_area

    notification = Notification.objects.create(
        incident=incident,
        kind=Notification.Kind.FOOTAGE_REQUEST,
        site=site,
        message=message,
        created_by_id=actor.user_id,
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
    transaction.on_commit(lambda: notify_area.delay(notification.pk))
    return notification


class AnswerLinkError(Exception):
    """The answer link cannot be used; the message says why (invalid, expired)."""


def recipient_from_token(token: str) -> NotificationRecipient:
    from portal.department.tasks import ANSWER_SALT

    try:
        payload = signing.loads(token, salt=ANSWER_SALT, max_age=60 * 60 * 24 * 30)
    except signing.SignatureExpired as error:
        raise AnswerLinkError("expired") from error
    except signing.BadSignature as error:
        raise AnswerLinkError("invalid") from error
    recipient = (
        NotificationRecipient.objects.select_related("notification__incident")
        .filter(pk=payload.get("r") if isinstance(payload, dict) else None)
        .first()
    )
    if recipient is None:
        raise AnswerLinkError("invalid")
    return recipient


class AlreadyAnswered(Exception):
    pass


@transaction.atomic
def notification_answer(*, recipient: NotificationRecipient, answer: str) -> None:
    recipient = NotificationRecipient.objects.select_for_update().get(pk=recipient.pk)
    if recipient.answer:
        raise AlreadyAnswered
    recipient.answer, recipient.answered_at = answer, timezone.now()
    recipient.save(update_fields=["answer", "answered_at"])


@transaction.atomic
def clip_upload(
    *, recipient: NotificationRecipient, upload: UploadedFile, ip_address: str | None
) -> FootageClip:
    """Keep an owner's clip with its SHA-256, computed over the bytes as they are stored."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    clip = FootageClip(
        incident=recipient.notification.incident,
        recipient=recipient,
        original_name=upload.name[:200],
        content_type=upload.content_type or "",
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_from=ip_address,
    )
    clip.file.save(upload.name, upload, save=False)
    clip.save()
    return clip


def clip_open(*, actor: Actor, clip: FootageClip) -> File:
    """Hand a clip to staff; each download is a custody record in the audit trail."""
    audit_record(
        actor=actor,
        action=AuditEntry.Action.DOWNLOAD,
        reason=f"Clip {clip.original_name} sha256 {clip.sha256}",
        case=clip.incident,
    )
    return clip.file.open("rb")


def canvass_for_export(*, actor: Actor, incident: Incident, sites: list[Site]) -> list[Site]:
    """Record a canvass export, one entry per site so that each owner sees it among theirs."""
    audit_record_sites(
        actor=actor,
        action=AuditEntry.Action.EXPORT,
        reason=f"Canvass export for case {incident.case_number}",
        case=incident,
        sites=sites,
    )
    return sites


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
