"""Residents' self-service: their account's preferences, and everything the department holds
about them for their own download (JSON or CSV), with what they see of it on their pages: the
audit entries and live views the access page shows, the notices and footage requests they
received with their answers. Staff-private records (a canvass's notes, the addresses staff
acted from) are not the owner's to read and are left out, as on the access page."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing.selectors import subscriptions_by_site
from portal.access_notices.models import AccessNotice
from portal.access_notices.selectors import frequency_of, held_entries
from portal.access_notices.services import notice_preference_set
from portal.department.models import NotificationRecipient
from portal.department.services import answer_is_final
from portal.liveview.owner_selectors import LIVE_VIEW_ACTIONS, LiveView, grants_of_participant
from portal.registry.audit import Actor, audit_record
from portal.registry.csv_safe import SafeWriter
from portal.registry.models import AuditEntry, Participant
from portal.registry.selectors import audit_entries_about
from tenants.models import current_department

# Each format's name as the download's file name carries it.
FORMATS = ("json", "csv")


def owner_visible_entries(participant: Participant, *, now: datetime | None = None) -> Any:
    """The audit entries the owner reads on their access page and in their download: about
    them, but live views (listed from their grants, which know an emergency's hold) and the
    entries a delay still holds back for an open investigation."""
    held = set(held_entries(participant, now).values_list("pk", flat=True))
    return (
        audit_entries_about(participant).exclude(action__in=LIVE_VIEW_ACTIONS).exclude(pk__in=held)
    )


def owner_visible_live_views(participant: Participant, *, now: datetime) -> list[LiveView]:
    """The live views of the owner's cameras the access page lists (held ones once told)."""
    held = set(held_entries(participant, now).values_list("pk", flat=True))
    return [
        view
        for view in grants_of_participant(participant, now=now)
        if view.grant.audit_entry_id not in held
    ]


def requests_received(participant: Participant) -> QuerySet[NotificationRecipient]:
    """The area notices and footage requests the owner received (emailed, or answered), newest
    first, with their notification, incident and clips."""
    return (
        NotificationRecipient.objects.filter(participant=participant)
        .filter(Q(sent_at__isnull=False) | ~Q(answer=""))
        .select_related("notification__incident", "notification__site")
        .prefetch_related("clips")
        .order_by("-notification__created_at", "-pk")
    )


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass
class OwnerData:
    """One owner's records, read section by section as the file is written (streamed: an
    owner with years of audit entries is never held in memory at once)."""

    participant: Participant
    now: datetime

    def sections(self) -> Iterator[tuple[str, Iterable[dict[str, Any]]]]:
        yield "participant", [self._participant()]
        yield "sites", self._sites()
        yield "cameras", self._cameras()
        yield "terms", self._terms()
        yield "notice_preferences", [self._preferences()]
        yield "requests", self._requests()
        yield "clips", self._clips()
        yield "access_notices", self._access_notices()
        yield "audit_entries", self._audit_entries()
        yield "live_views", self._live_views()
        yield "device_subscriptions", self._subscriptions()

    def _participant(self) -> dict[str, Any]:
        owner = self.participant
        return {
            "id": owner.pk,
            "account_email": owner.user.email,
            "organization_name": owner.organisation_name,
            "language": owner.language,
            "status": owner.status,
            "confirmed_at": _when(owner.confirmed_at),
            "created_at": _when(owner.created_at),
            "lapsed_at": _when(owner.lapsed_at),
            "email_undeliverable_at": _when(owner.email_undeliverable_at),
            "email_undeliverable_reason": owner.email_undeliverable_reason,
        }

    def _sites(self) -> Iterator[dict[str, Any]]:
        for site in self.participant.sites.all():
            yield {
                "id": site.pk,
                "kind": site.kind,
                "address": site.address,
                "latitude": site.latitude,
                "longitude": site.longitude,
                "participation": site.participation,
                "contact_name": site.contact_name,
                "contact_phone": site.contact_phone,
                "contact_email": site.contact_email,
                "contact_method": site.contact_method,
                "contact_hours": site.contact_hours,
                "paused": site.paused,
                "yard_sign_requested": site.yard_sign_requested,
                "yard_sign_address": site.yard_sign_address,
                "created_at": _when(site.created_at),
                "updated_at": _when(site.updated_at),
            }

    def _cameras(self) -> Iterator[dict[str, Any]]:
        for site in self.participant.sites.prefetch_related("cameras"):
            for camera in site.cameras.all():
                yield {
                    "id": camera.pk,
                    "site_id": site.pk,
                    "label": camera.label,
                    "direction_degrees": camera.direction,
                    "sees": ",".join(camera.sees),
                    "mount": camera.mount,
                    "recording": camera.recording,
                    "retention_days": camera.retention_days,
                    "night_vision": camera.night_vision,
                    "paused": camera.paused,
                }

    def _terms(self) -> Iterator[dict[str, Any]]:
        current = current_department().program.terms_version
        for site in self.participant.sites.all():
            yield {
                "site_id": site.pk,
                "terms_version_accepted": site.terms_version,
                "terms_accepted_at": _when(site.terms_accepted_at),
                "terms_version_current": current,
            }

    def _preferences(self) -> dict[str, Any]:
        return {
            "access_notices": frequency_of(self.participant),
            "area_notices": self.participant.area_notices,
            "language": self.participant.language,
        }

    def _requests(self) -> Iterator[dict[str, Any]]:
        for recipient in requests_received(self.participant):
            notification = recipient.notification
            incident = notification.incident
            yield {
                "id": recipient.pk,
                "kind": notification.kind,
                "case_number": incident.case_number,
                "site_id": notification.site_id,
                "message": notification.message,
                "time_from": _when(incident.starts_at),
                "time_until": _when(incident.ends_at),
                "sent_at": _when(recipient.sent_at),
                "answer": recipient.answer,
                "answered_at": _when(recipient.answered_at),
                "answer_final": answer_is_final(recipient),
            }

    def _clips(self) -> Iterator[dict[str, Any]]:
        for recipient in requests_received(self.participant):
            for clip in recipient.clips.all():
                yield {
                    "id": clip.pk,
                    "request_id": recipient.pk,
                    "file_name": clip.original_name,
                    "content_type": clip.content_type,
                    "size_bytes": clip.size,
                    "sha256": clip.sha256,
                    "uploaded_at": _when(clip.uploaded_at),
                    "downloaded_by_department": clip.first_downloaded_at is not None,
                }

    def _access_notices(self) -> Iterator[dict[str, Any]]:
        held = set(held_entries(self.participant, self.now).values_list("pk", flat=True))
        notices = AccessNotice.objects.filter(participant=self.participant).exclude(
            audit_entry_id__in=held
        )
        for notice in notices.iterator(chunk_size=500):
            yield {
                "audit_entry_id": notice.audit_entry_id,
                "action": notice.action,
                "site_id": notice.site_id,
                "case_number": notice.case_number,
                "category": notice.category,
                "accessed_at": _when(notice.accessed_at),
                "status": notice.status,
                "sent_at": _when(notice.sent_at),
                "weekly_summary": notice.digest,
            }

    def _audit_entries(self) -> Iterator[dict[str, Any]]:
        entries = owner_visible_entries(self.participant, now=self.now).order_by("at", "pk")
        for entry in entries.iterator(chunk_size=500):
            yield {
                "id": entry.pk,
                "at": _when(entry.at),
                "who": entry.actor_email,
                "role": entry.actor_role,
                "action": entry.action,
                "site_id": entry.site_id,
                "case_number": entry.case_number,
                "category": entry.category,
                "reason": entry.reason,
                "note": entry.note,
            }

    def _live_views(self) -> Iterator[dict[str, Any]]:
        for view in owner_visible_live_views(self.participant, now=self.now):
            grant = view.grant
            yield {
                "camera_id": grant.camera_id,
                "role": grant.staff_role,
                "reason": grant.reason,
                "case_number": grant.case_number,
                "emergency": grant.emergency,
                "opened_at": _when(grant.opened_at),
                "ended_at": _when(grant.ended_at),
                "seconds_watched": grant.seconds_watched,
            }

    def _subscriptions(self) -> Iterator[dict[str, Any]]:
        subscriptions = subscriptions_by_site(current_department(), self.participant.pk)
        for site_id, subscription in subscriptions.items():
            yield {
                "site_id": site_id,
                "plan": str(subscription.plan),
                "status": subscription.status,
            }


def owner_data_export(*, actor: Actor, participant: Participant, file_format: str) -> OwnerData:
    """The owner's own records for their download, recorded in the audit trail (like every
    hand-out of personal data) before anything is read."""
    if file_format not in FORMATS:
        raise ValueError(file_format)
    audit_record(
        actor=actor,
        action=AuditEntry.Action.OWNER_EXPORT,
        reason=f"The owner downloaded their own data ({file_format.upper()})",
        participant=participant,
    )
    return OwnerData(participant=participant, now=timezone.now())


def json_chunks(data: OwnerData) -> Iterator[str]:
    """The owner's records as one JSON object of sections, written a record at a time."""
    yield '{"exported_at": ' + json.dumps(_when(data.now))
    for name, records in data.sections():
        yield ", " + json.dumps(name) + ": ["
        for index, record in enumerate(records):
            yield ("" if index == 0 else ", ") + json.dumps(record, ensure_ascii=False)
        yield "]"
    yield "}\n"


CSV_HEADER = ["section", "record", "field", "value"]


def csv_chunks(data: OwnerData) -> Iterator[str]:
    """The owner's records as one CSV of (section, record, field, value) rows, so that every
    section fits one file a spreadsheet opens; written a record at a time."""
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(CSV_HEADER)
    for name, records in data.sections():
        for index, record in enumerate(records, start=1):
            for field, value in record.items():
                writer.writerow([name, index, field, "" if value is None else value])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


@transaction.atomic
def account_preferences_set(
    *,
    actor: Actor,
    participant: Participant,
    language: str,
    access_notices: str,
    area_notices: bool,
) -> list[str]:
    """The owner's own choices: the language the department writes to them in (every email
    reads Participant.language), how they are told of access (access_notices), and whether
    area notices reach them (area_notices_condition). Returns what changed."""
    if actor.participant is None or actor.participant.pk != participant.pk:
        raise PermissionDenied
    if language not in current_department().branding.languages:
        raise ValueError(language)
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    changed = []
    if participant.language != language:
        participant.language = language
        changed.append("language")
    if participant.area_notices != area_notices:
        participant.area_notices = area_notices
        changed.append("area_notices")
    if changed:
        participant.save(update_fields=changed)
    if frequency_of(participant) != access_notices:
        notice_preference_set(actor=actor, participant=participant, frequency=access_notices)
        changed.append("access_notices")
    return changed
