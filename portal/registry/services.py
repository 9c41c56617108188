"""Every change to the registry: registering, editing, pausing, confirming, opting out, lapsing,
importing; and the reads of personal data in bulk (exports), which record themselves.

Each function is one transaction and the only way its state changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.registry.audit import Actor, audit_record
from portal.registry.emails import participant_email
from portal.registry.models import AuditEntry, Camera, OptOut, Participant, Site
from portal.registry.registry_io import ImportCheck
from portal.registry.signals import participant_opting_out
from portal.registry.signing import Link, LinkError, link_read, link_sign
from tenants.models import Program


def participant_create(
    *, user: AbstractBaseUser, organisation_name: str = "", language: str = "en"
) -> Participant:
    return Participant.objects.create(
        user=user, organisation_name=organisation_name.strip(), language=language
    )


def _confirm(participant: Participant, now: datetime) -> None:
    participant.status = Participant.Status.ACTIVE
    participant.confirmed_at = now
    participant.notice_sent_at = participant.reminder_sent_at = participant.lapsed_at = None
    participant.save(
        update_fields=["status", "confirmed_at", "notice_sent_at", "reminder_sent_at", "lapsed_at"]
    )


@transaction.atomic
def site_register(
    *,
    participant: Participant,
    program: Program,
    site: Mapping[str, Any],
    cameras: Iterable[Mapping[str, Any]],
    language: str,
) -> Site:
    """Register a site with its cameras under the department's current terms.

    Registering is also a confirmation: a lapsed or purged participant becomes active again.
    """
    now = timezone.now()
    new_site = Site.objects.create(
        participant=participant,
        terms_version=program.terms_version,
        terms_accepted_at=now,
        **site,
    )
    Camera.objects.bulk_create(Camera(site=new_site, **camera) for camera in cameras)
    participant.language = language
    participant.save(update_fields=["language"])
    _confirm(participant, now)
    return new_site


@transaction.atomic
def site_update(
    *,
    site: Site,
    program: Program,
    changes: Mapping[str, Any],
    cameras_changed: Iterable[tuple[Camera | None, Mapping[str, Any]]],
    cameras_deleted: Iterable[Camera],
    terms_accepted: bool,
) -> Site:
    """Edit a site and its cameras: `cameras_changed` pairs an existing camera (or None for a new
    one) with its fields. Accepting the current terms records their version."""
    for field, value in changes.items():
        setattr(site, field, value)
    if terms_accepted:
        site.terms_version, site.terms_accepted_at = program.terms_version, timezone.now()
    site.save()
    for camera in cameras_deleted:
        camera.delete()
    for camera, fields in cameras_changed:
        if camera is None:
            Camera.objects.create(site=site, **fields)
        else:
            for field, value in fields.items():
                setattr(camera, field, value)
            camera.save()
    return site


@transaction.atomic
def site_set_paused(*, site: Site, paused: bool) -> Site:
    site.paused = paused
    site.save(update_fields=["paused", "updated_at"])
    return site


@transaction.atomic
def camera_set_paused(*, camera: Camera, paused: bool) -> Camera:
    camera.paused = paused
    camera.save(update_fields=["paused"])
    return camera


@transaction.atomic
def participant_confirm(*, participant: Participant) -> Participant:
    _confirm(participant, timezone.now())
    return participant


def verification_token(participant: Participant) -> str:
    """The yearly confirmation link's token: for this city's portal, and good for the
    participant's current confirmation only (confirming changes `confirmed_at`)."""
    return link_sign(
        Link.REGISTRATION_CONFIRM,
        {"p": participant.pk, "c": participant.confirmed_at.isoformat()},
    )


def participant_by_link(*, token: str, for_update: bool = False) -> Participant:
    """The participant whose registration a yearly confirmation link can still confirm;
    LinkError says why not ("invalid", "expired", "used", "purged")."""
    payload = link_read(Link.REGISTRATION_CONFIRM, token)
    participants = Participant.objects.select_for_update() if for_update else Participant.objects
    participant = (
        participants.filter(pk=payload.get("p")).first() if isinstance(payload, dict) else None
    )
    if participant is None:
        raise LinkError("invalid")
    if participant.confirmed_at.isoformat() != payload.get("c"):
        raise LinkError("used")
    if participant.status == Participant.Status.PURGED:
        raise LinkError("purged")
    return participant


@transaction.atomic
def participant_confirm_by_link(*, token: str) -> Participant:
    """Confirm from an emailed link without signing in; a link works once."""
    participant = participant_by_link(token=token, for_update=True)
    _confirm(participant, timezone.now())
    return participant


@dataclass(frozen=True)
class OptOutResult:
    sites_deleted: int
    cameras_deleted: int
    account_closed: bool


class NothingToDelete(Exception):
    """The participant has already opted out: no sites are left."""


@transaction.atomic
def participant_opt_out(*, participant: Participant, close_account: bool) -> OptOutResult:
    """Delete the participant's sites, cameras and contact details at once (rows, not flags),
    and the account too if asked; email a confirmation; keep a count without personal data."""
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    sites = Site.objects.filter(participant=participant)
    site_count = sites.count()
    if site_count == 0 and not close_account:
        raise NothingToDelete
    camera_count = Camera.objects.filter(site__participant=participant).count()
    email, language = participant.user.email, participant.language
    participant_opting_out.send(sender=Participant, participant=participant)
    sites.delete()
    if close_account:
        participant.user.delete()
    else:
        participant.organisation_name = ""
        participant.save(update_fields=["organisation_name"])
    OptOut.objects.create(
        sites_deleted=site_count, cameras_deleted=camera_count, account_closed=close_account
    )
    transaction.on_commit(
        lambda: participant_email(
            email=email,
            language=language,
            template="opted_out",
            context={"account_closed": close_account, "sites_deleted": site_count},
        )
    )
    return OptOutResult(site_count, camera_count, close_account)


@dataclass
class VerificationCounts:
    notices: int = 0
    reminders: int = 0
    lapsed: int = 0
    purged: int = 0


def registrations_verify(*, program: Program, now: datetime) -> VerificationCounts:
    """The yearly re-verification in the current department's schema: notice before the
    anniversary, a reminder on it, lapse after the grace period, purge after the purge period.
    Each participant's step is its own transaction and is recorded, so running twice sends
    nothing twice."""
    counts = VerificationCounts()
    # Only registrations are verified: an account without a site has nothing to confirm.
    candidates = (
        Participant.objects.exclude(status=Participant.Status.PURGED)
        .filter(sites__isnull=False)
        .distinct()
        .values_list("pk", flat=True)
    )
    for participant_pk in list(candidates):
        with transaction.atomic():
            participant = (
                Participant.objects.select_for_update()
                .select_related("user")
                .get(pk=participant_pk)
            )
            if participant.purge_due(program, now):
                _purge(participant)
                counts.purged += 1
            elif participant.lapse_due(program, now):
                participant.status, participant.lapsed_at = Participant.Status.LAPSED, now
                participant.save(update_fields=["status", "lapsed_at"])
                _notify(participant, "lapsed", program)
                counts.lapsed += 1
            elif participant.reminder_due(now):
                participant.reminder_sent_at = now
                participant.save(update_fields=["reminder_sent_at"])
                _notify(participant, "verification_reminder", program)
                counts.reminders += 1
            elif participant.notice_due(program, now):
                participant.notice_sent_at = now
                participant.save(update_fields=["notice_sent_at"])
                _notify(participant, "verification_notice", program)
                counts.notices += 1
    return counts


def _purge(participant: Participant) -> None:
    Site.objects.filter(participant=participant).delete()
    participant.status = Participant.Status.PURGED
    participant.organisation_name = ""
    participant.save(update_fields=["status", "organisation_name"])


def _notify(participant: Participant, template: str, program: Program) -> None:
    email, language = participant.user.email, participant.language
    context = {
        "token": verification_token(participant),
        "anniversary": participant.anniversary(),
        "lapse_on": participant.anniversary() + timedelta(days=program.verification_grace_days),
        "purge_after_days": program.purge_after_days,
    }
    transaction.on_commit(
        lambda: participant_email(
            email=email, language=language, template=template, context=context
        )
    )


@transaction.atomic
def registry_import(*, actor: Actor, check: ImportCheck, program: Program) -> int:
    """Write a checked import, all or nothing, in bulk: each owner gets an account without a
    password (they can claim it by resetting it), a participant, their sites and cameras."""
    if not check.ok:
        raise ValueError("only a checked import without errors can be written")
    user_model = get_user_model()
    emails = {imported.fields["contact_email"].lower() for imported in check.sites}
    users = {user.email.lower(): user for user in user_model.objects.filter(email__in=emails)}
    unusable = make_password(None)
    users |= {
        user.email: user
        for user in user_model.objects.bulk_create(
            user_model(username=email, email=email, password=unusable)
            for email in sorted(emails - users.keys())
        )
    }
    participants = {
        participant.user_id: participant
        for participant in Participant.objects.filter(user__in=users.values())
    }
    participants |= {
        participant.user_id: participant
        for participant in Participant.objects.bulk_create(
            Participant(user=user) for user in users.values() if user.pk not in participants
        )
    }
    now = timezone.now()
    sites = Site.objects.bulk_create(
        Site(
            participant=participants[users[imported.fields["contact_email"].lower()].pk],
            terms_version=program.terms_version,
            terms_accepted_at=now,
            **imported.fields,
        )
        for imported in check.sites
    )
    Camera.objects.bulk_create(
        Camera(site=site, **camera)
        for site, imported in zip(sites, check.sites, strict=True)
        for camera in imported.cameras
    )
    audit_record(
        actor=actor,
        action=AuditEntry.Action.IMPORT,
        reason=f"Registry import: {len(sites)} sites",
    )
    return len(sites)


def registry_for_export(*, actor: Actor, file_format: str) -> QuerySet[Site]:
    """The searchable registry (locations and cameras, no contact details) for an export, after
    recording the export: the caller streams the rows."""
    audit_record(
        actor=actor, action=AuditEntry.Action.EXPORT, reason=f"Registry export ({file_format})"
    )
    return Site.objects.searchable().with_active_cameras().order_by("pk")
