"""The only writers of owners' notices of access: collecting them from the audit trail (the one
record of access, so that no service can forget to notify), sending those due (at once, or one
summary a week), the owner's choice, and the department's delays of an open investigation."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.access_notices.models import (
    DELAY_DAYS_MOST,
    AccessNotice,
    InvestigationClosure,
    InvestigationDelay,
    NoticeMark,
    NoticePreference,
    NoticeSettings,
)
from portal.department.models import Incident
from portal.liveview.models import Grant
from portal.registry.audit import Actor
from portal.registry.emails import email_send
from portal.registry.models import AuditEntry, Participant, Site
from tenants.models import Department, current_department

logger = logging.getLogger(__name__)

# The accesses an owner is told of.
NOTICE_ACTIONS = (
    AuditEntry.Action.REVEAL,
    AuditEntry.Action.FOOTAGE_REQUEST,
    AuditEntry.Action.LIVE_FEED,
)
# Entries are read past the high-water mark, and again over this window: an entry whose
# transaction committed after a later one (its id lower than the mark) is still found.
LOOKBACK = timedelta(days=1)
BATCH = 1000


class DelayRefused(Exception):
    """A delay that cannot be set, with the message to show, in the reader's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------------------
# Collecting: one notice per owner per audit entry
# ---------------------------------------------------------------------------------------------


def notices_collect(*, now: datetime | None = None) -> int:
    """Create the pending notices of the audit entries not yet read, in the current schema,
    one batch per transaction; returns how many were created. Twice over the same entries
    creates nothing more (one notice per entry and owner)."""
    now = now or timezone.now()
    mark = NoticeMark.objects.get()
    created, after = 0, 0
    while True:
        entries = list(
            AuditEntry.objects.filter(
                action__in=NOTICE_ACTIONS,
                participant_id__isnull=False,
                at__gte=mark.installed_at,
                pk__gt=after,
            )
            .filter(Q(pk__gt=mark.last_entry_id) | Q(at__gte=now - LOOKBACK))
            .order_by("pk")[:BATCH]
        )
        if not entries:
            return created
        created += _notices_create(entries, now)
        after = entries[-1].pk


@transaction.atomic
def _notices_create(entries: list[AuditEntry], now: datetime) -> int:
    owners = set(
        Participant.objects.filter(pk__in={entry.participant_id for entry in entries}).values_list(
            "pk", flat=True
        )
    )
    # A live view names its case, not its incident: the case's incident (the latest of that
    # number) is its incident here, so that the case's delay and closing apply to it too.
    cases = _incidents_of_cases(
        {entry.case_number for entry in entries if not entry.incident_id and entry.case_number}
    )
    incident_of = {entry.pk: entry.incident_id or cases.get(entry.case_number) for entry in entries}
    incident_ids = {pk for pk in incident_of.values() if pk}
    delays = {
        delay.incident_id: delay
        for delay in InvestigationDelay.objects.holding(now).filter(incident_id__in=incident_ids)
    }
    grants = _live_grants(entries)
    existing = set(
        AccessNotice.objects.filter(audit_entry_id__in=[entry.pk for entry in entries]).values_list(
            "audit_entry_id", "participant_id"
        )
    )
    Status = AccessNotice.Status
    notices = []
    for entry in entries:
        if entry.participant_id not in owners:
            continue  # opted out: the owner and everything about them are gone
        if (entry.pk, entry.participant_id) in existing:
            continue
        incident_id = incident_of[entry.pk]
        delay = delays.get(incident_id) if incident_id else None
        due_at = max(entry.at, delay.until) if delay else entry.at
        grant = grants.get(entry.pk)
        if grant is not None and grant.notice_delayed and grant.notice_after:
            due_at = max(due_at, grant.notice_after)  # an emergency's hold, at most 72 hours
        # Told by live view's own notices before they became access notices: never twice.
        told = grant is not None and grant.owner_notified_at is not None
        notices.append(
            AccessNotice(
                audit_entry_id=entry.pk,
                participant_id=entry.participant_id,
                action=entry.action,
                site_id=entry.site_id,
                incident_id=incident_id,
                case_number=entry.case_number,
                category=entry.category,
                accessed_at=entry.at,
                due_at=due_at,
                delay=delay,
                status=Status.SKIPPED if told else Status.PENDING,
                skipped=AccessNotice.Skipped.LIVE_VIEW_NOTICE if told else "",
            )
        )
    # A run at the same time may have made some since: the constraint keeps one of each.
    AccessNotice.objects.bulk_create(notices, ignore_conflicts=True)
    NoticeMark.objects.filter(pk=NoticeMark.ONLY, last_entry_id__lt=entries[-1].pk).update(
        last_entry_id=entries[-1].pk
    )
    return len(notices)


def _incidents_of_cases(case_numbers: set[str]) -> dict[str, int]:
    """The latest incident of each case number (None of a case no incident has)."""
    if not case_numbers:
        return {}
    latest: dict[str, int] = {}
    for case_number, pk in Incident.objects.filter(case_number__in=case_numbers).values_list(
        "case_number", "pk"
    ):
        latest[case_number] = max(pk, latest.get(case_number, 0))
    return latest


def _live_grants(entries: list[AuditEntry]) -> dict[int, Grant]:
    """The live-view grants the LIVE_FEED entries opened, by entry: their emergency hold."""
    live = [entry.pk for entry in entries if entry.action == AuditEntry.Action.LIVE_FEED]
    if not live:
        return {}
    return {
        grant.audit_entry_id: grant
        for grant in Grant.objects.filter(audit_entry_id__in=live).only(
            "audit_entry_id", "notice_after", "notice_delayed", "owner_notified_at"
        )
        if grant.audit_entry_id is not None
    }


# ---------------------------------------------------------------------------------------------
# Sending
# ---------------------------------------------------------------------------------------------


def week_start(now: datetime, department: Department) -> datetime:
    """Monday 00:00 of `now`'s week in the department's time zone: a weekly summary holds the
    notices that fell due before it (the week just ended)."""
    local = now.astimezone(department.zone)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time(0), tzinfo=department.zone)


def _weekly() -> Q:
    return Q(participant__notice_preference__frequency=NoticePreference.Frequency.WEEKLY)


def _due(before: datetime) -> Any:
    return AccessNotice.objects.filter(
        status=AccessNotice.Status.PENDING, claimed_at__isnull=True, due_at__lte=before
    )


def notices_send(*, now: datetime | None = None) -> int:
    """Email the due notices of the current department: one email per notice to owners who
    chose "at once", one summary per owner a week (the notices due before this week began) to
    the others. Returns the number of emails sent."""
    now = now or timezone.now()
    department = current_department()
    sent = 0
    for notice_id in list(_due(now).exclude(_weekly()).values_list("pk", flat=True)):
        sent += _deliver([notice_id], now, department, digest=False)
    cutoff = week_start(now, department) - timedelta(microseconds=1)
    weekly_owners = (
        _due(cutoff).filter(_weekly()).values_list("participant_id", flat=True).distinct()
    )
    for participant_id in list(weekly_owners):
        notice_ids = list(
            _due(cutoff).filter(participant_id=participant_id).values_list("pk", flat=True)
        )
        sent += _deliver(notice_ids, now, department, digest=True)
    return sent


def _deliver(notice_ids: list[int], now: datetime, department: Department, *, digest: bool) -> int:
    """Claim the notices (committed), send their email, mark them sent. A run stopped between
    the claim and the mark leaves them claimed and unsent: never sent twice (at most once, as
    the department's own notices); a mail server's refusal releases the claim for the next run."""
    with transaction.atomic():
        notices = list(
            AccessNotice.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=notice_ids, status=AccessNotice.Status.PENDING, claimed_at__isnull=True)
            .select_related("participant__user")
        )
        if not notices:
            return 0  # another run has them, or sent them
        participant = notices[0].participant
        notices = _of_sites_kept(notices, participant)
        if not notices:
            return 0
        skipped = _undeliverable(participant)
        claimed = AccessNotice.objects.filter(pk__in=[notice.pk for notice in notices])
        if skipped:
            claimed.update(status=AccessNotice.Status.SKIPPED, skipped=skipped)
            logger.info(
                "Access notices %s to participant %s not sent: %s",
                [notice.pk for notice in notices],
                participant.pk,
                AccessNotice.Skipped(skipped).label,
            )
            return 0
        claimed.update(claimed_at=now, digest=digest)
    try:
        _email(participant, notices, department, digest=digest)
    except Exception:
        logger.exception("Access notices %s not sent", [notice.pk for notice in notices])
        claimed.update(claimed_at=None)
        return 0
    claimed.update(status=AccessNotice.Status.SENT, sent_at=now)
    return 1


def _of_sites_kept(notices: list[AccessNotice], participant: Participant) -> list[AccessNotice]:
    """The notices whose site the owner still has; those of a site they removed (opting out
    with their account kept) are skipped: an owner who left hears nothing more."""
    kept = set(
        Site.objects.filter(
            participant=participant, pk__in={notice.site_id for notice in notices}
        ).values_list("pk", flat=True)
    )
    gone = [notice.pk for notice in notices if notice.site_id and notice.site_id not in kept]
    if gone:
        AccessNotice.objects.filter(pk__in=gone).update(
            status=AccessNotice.Status.SKIPPED, skipped=AccessNotice.Skipped.LEFT
        )
        logger.info("Access notices %s not sent: the owner left the registry", gone)
    return [notice for notice in notices if notice.pk not in gone]


def _undeliverable(participant: Participant) -> str:
    if participant.status == Participant.Status.PURGED:
        return AccessNotice.Skipped.REMOVED
    if not participant.user.email:
        return AccessNotice.Skipped.NO_EMAIL
    if not participant.email_deliverable:
        return AccessNotice.Skipped.UNDELIVERABLE
    return ""


@dataclass(frozen=True)
class NoticeItem:
    """One access as the owner is told of it: when, what, the reason category (the department's
    own label) and case number, and the days it was held back. Never the staff member."""

    notice: AccessNotice
    department: Department

    @property
    def accessed_at(self) -> datetime:
        return self.notice.accessed_at

    @property
    def what(self) -> str:
        labels: dict[str, str] = {
            AuditEntry.Action.REVEAL: _("Police saw your contact details"),
            AuditEntry.Action.FOOTAGE_REQUEST: _("Police asked you for footage"),
            AuditEntry.Action.LIVE_FEED: _("Police watched one of your cameras live"),
        }
        return labels.get(self.notice.action, self.notice.action)

    @property
    def category(self) -> str:
        return category_label(self.department, self.notice.action, self.notice.category)

    @property
    def case_number(self) -> str:
        return self.notice.case_number

    @property
    def held_days(self) -> int:
        return self.notice.held_days

    @property
    def emergency_hours(self) -> int:
        return self.notice.emergency_hours


def category_label(department: Department, action: str, code: str) -> str:
    """The reason category as the department wrote it: a live view's reason label, or the
    offence type's label; the bare code once it has left the department's list."""
    program = department.program
    if action == AuditEntry.Action.LIVE_FEED:
        for reason in program.live_reasons or []:
            if isinstance(reason, dict) and reason.get("code") == code:
                return str(reason.get("label") or code)
        return code
    return program.offence_label(code)


def _email(
    participant: Participant,
    notices: Iterable[AccessNotice],
    department: Department,
    *,
    digest: bool,
) -> None:
    items = [NoticeItem(notice, department) for notice in notices]
    with department.in_time_zone():
        email_send(
            template="access_notices/email/digest" if digest else "access_notices/email/notice",
            to=participant.user.email,
            language=participant.language or "en",
            context={
                "items": items,
                "item": items[0],
                "access_url": department.url("/my/access/"),
                "preferences_url": department.url("/my/notices/"),
            },
            department=department,
        )


# ---------------------------------------------------------------------------------------------
# The owner's choice
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def notice_preference_set(
    *, actor: Actor, participant: Participant, frequency: str
) -> NoticePreference:
    """How the owner hears of access to their data: at once or one summary a week. Notices
    already waiting follow the new choice."""
    if actor.participant is None or actor.participant.pk != participant.pk:
        raise PermissionDenied
    if frequency not in NoticePreference.Frequency.values:
        raise ValueError(frequency)
    preference, _created = NoticePreference.objects.select_for_update().get_or_create(
        participant=participant
    )
    preference.frequency = frequency
    preference.save(update_fields=["frequency", "updated_at"])
    return preference


# ---------------------------------------------------------------------------------------------
# The department's delays
# ---------------------------------------------------------------------------------------------


def notice_settings() -> NoticeSettings:
    return NoticeSettings.objects.get()


@transaction.atomic
def delay_max_set(*, actor: Actor, days: int) -> NoticeSettings:
    """The department's longest delay of a notice (0 to 90 days); delays already set keep
    theirs."""
    staff = actor.as_staff()
    if not staff.can_administer:
        raise PermissionDenied
    if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= DELAY_DAYS_MOST:
        raise DelayRefused(
            _("The longest delay is between 0 and %(most)d days.") % {"most": DELAY_DAYS_MOST}
        )
    settings = NoticeSettings.objects.select_for_update().get()
    settings.delay_max_days = days
    settings.save(update_fields=["delay_max_days", "updated_at"])
    return settings


def investigation_is_closed(incident: Incident) -> bool:
    return InvestigationClosure.objects.filter(incident=incident).exists()


@transaction.atomic
def notice_delay_set(
    *, actor: Actor, incident: Incident, days: int, reason: str
) -> InvestigationDelay:
    """Hold the notices of the incident's accesses back for `days` from now, for an open
    investigation, with the investigator's reason: refused (DelayRefused, nothing written)
    when negative, zero, above the department's maximum or 90 days, without a reason, on a
    closed investigation, or when the case's notices are already delayed."""
    staff = actor.as_staff()
    if not staff.can_casework:
        raise PermissionDenied
    settings = NoticeSettings.objects.get()
    if isinstance(days, bool) or not isinstance(days, int):
        raise DelayRefused(_("Give the delay as a whole number of days."))
    if days < 0:
        raise DelayRefused(_("A delay cannot be negative."))
    if days == 0:
        raise DelayRefused(_("A delay is at least 1 day."))
    if days > DELAY_DAYS_MOST:
        raise DelayRefused(
            _("No notice can be delayed more than %(most)d days.") % {"most": DELAY_DAYS_MOST}
        )
    if days > settings.delay_max_days:
        raise DelayRefused(
            ngettext(
                "The department allows delays of at most %(most)d day.",
                "The department allows delays of at most %(most)d days.",
                settings.delay_max_days,
            )
            % {"most": settings.delay_max_days}
        )
    reason = " ".join((reason or "").split())
    if not reason:
        raise DelayRefused(_("Give the reason for the delay: the investigation it protects."))
    if len(reason) > 300:
        raise DelayRefused(_("The reason has at most 300 characters."))
    # Locked: two delays or a delay and a closing at once are decided one after the other.
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if investigation_is_closed(incident):
        raise DelayRefused(_("This investigation is closed: its notices cannot be delayed."))
    existing = InvestigationDelay.objects.filter(incident=incident).first()
    if existing is not None:
        raise DelayRefused(
            _("The notices of this case are already delayed, until %(until)s.")
            % {"until": timezone.localtime(existing.until).strftime("%Y-%m-%d")}
        )
    now = timezone.now()
    delay = InvestigationDelay.objects.create(
        incident=incident,
        days=days,
        reason=reason,
        set_by=staff,
        set_at=now,
        until=now + timedelta(days=days),
    )
    AccessNotice.objects.filter(
        incident_id=incident.pk, status=AccessNotice.Status.PENDING, claimed_at__isnull=True
    ).update(delay=delay, due_at=Greatest(F("due_at"), delay.until))
    return delay


@transaction.atomic
def investigation_close(*, actor: Actor, incident: Incident) -> InvestigationClosure:
    """Declare the incident's investigation closed: its held notices fall due now (the next
    run sends them) and no delay can be set any more. Closing twice changes nothing."""
    staff = actor.as_staff()
    if not staff.can_casework:
        raise PermissionDenied
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    now = timezone.now()
    closure, created = InvestigationClosure.objects.get_or_create(
        incident=incident, defaults={"closed_at": now, "closed_by": staff}
    )
    if created:
        InvestigationDelay.objects.filter(incident=incident, released_at__isnull=True).update(
            released_at=now
        )
        AccessNotice.objects.filter(
            incident_id=incident.pk,
            status=AccessNotice.Status.PENDING,
            claimed_at__isnull=True,
            due_at__gt=now,
        ).update(due_at=Greatest(F("accessed_at"), now))
    return closure
