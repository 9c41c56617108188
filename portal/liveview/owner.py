"""The owner's side of live view: what each of their cameras shares and when, the pause of
everything at once, and how they hear of each view (the notices the scheduler sends)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.liveview import rules, services
from portal.liveview.models import Grant, LivePreferences, Sharing
from portal.liveview.owner_selectors import LiveView, live_view_of
from portal.registry.audit import Actor
from portal.registry.emails import email_send
from portal.registry.models import Camera, Participant, Site
from tenants.models import Department, current_department

logger = logging.getLogger(__name__)

# The schedule editor offers this many spans; more would be a week's timetable, not a choice.
SCHEDULE_SPANS_MAX = 3
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class SharingRefused(Exception):
    """An owner's choice that cannot be saved, with the message to show them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _owner_only(actor: Actor, participant: Participant) -> None:
    """Only the owner decides for their own cameras (anyone else: PermissionDenied)."""
    if actor.participant is None or actor.participant.pk != participant.pk:
        raise PermissionDenied


def schedule_clean(schedule: object) -> list[dict[str, Any]]:
    """The schedule as stored (Sharing.schedule): a list of at most SCHEDULE_SPANS_MAX spans
    {"days": [0..6] (0 is Monday), "start": "HH:MM", "end": "HH:MM"}, an end before the start
    running past midnight. SharingRefused says what is wrong, in the owner's language."""
    if not isinstance(schedule, list):
        raise SharingRefused(_("The schedule could not be read. Choose days and times again."))
    if len(schedule) > SCHEDULE_SPANS_MAX:
        raise SharingRefused(
            _("Choose at most %(count)d spans of hours.") % {"count": SCHEDULE_SPANS_MAX}
        )
    cleaned: list[dict[str, Any]] = []
    for number, span in enumerate(schedule, start=1):
        if not isinstance(span, dict):
            raise SharingRefused(_("The schedule could not be read. Choose days and times again."))
        days = span.get("days")
        if (
            not isinstance(days, list)
            or not days
            or not all(isinstance(day, int) and not isinstance(day, bool) for day in days)
            or not all(0 <= day <= 6 for day in days)
        ):
            raise SharingRefused(
                _("Span %(number)d: tick at least one day of the week.") % {"number": number}
            )
        start, end = span.get("start"), span.get("end")
        for value in (start, end):
            if not isinstance(value, str) or not _TIME.fullmatch(value):
                raise SharingRefused(
                    _("Span %(number)d: give the start and end as hours and minutes, e.g. 18:00.")
                    % {"number": number}
                )
        if start == end:
            raise SharingRefused(
                _("Span %(number)d: the end must differ from the start.") % {"number": number}
            )
        cleaned.append({"days": sorted(set(days)), "start": start, "end": end})
    return cleaned


@transaction.atomic
def sharing_set(*, actor: Actor, camera: Camera, mode: str, schedule: object) -> Sharing:
    """The owner's sharing mode for one camera of an integrated site (and the scheduled hours,
    kept whatever the mode). A change that no longer allows an open grant ends it at once."""
    site = Site.objects.select_related("participant").get(pk=camera.site_id)
    _owner_only(actor, site.participant)
    if site.participation != Site.Participation.INTEGRATED:
        raise SharingRefused(
            _("This site is not integrated: live sharing needs the site's integration device.")
        )
    if mode not in Sharing.Mode.values:
        raise SharingRefused(_("Choose one of the sharing choices shown."))
    cleaned = schedule_clean(schedule)
    if mode == Sharing.Mode.SCHEDULED and not cleaned:
        raise SharingRefused(
            _("Scheduled hours need at least one span: tick the days and give the hours.")
        )
    sharing, _created = Sharing.objects.select_for_update().get_or_create(camera=camera)
    previous_mode, previous_schedule = sharing.mode, sharing.schedule
    sharing.mode, sharing.schedule = mode, cleaned
    sharing.save(update_fields=["mode", "schedule", "updated_at"])
    if mode != previous_mode or cleaned != previous_schedule:
        # The grants the new choice no longer allows end now (an emergency view survives a
        # change to "emergencies only"; a view within the new hours survives a new schedule).
        now = timezone.now()
        time_zone = current_department().time_zone
        stopped = [
            grant.pk
            for grant in Grant.objects.open(now).filter(camera=camera)
            if not rules.sharing_allows(
                sharing, now=now, time_zone=time_zone, emergency=grant.emergency
            )
        ]
        services.grants_end(
            grants=Grant.objects.filter(pk__in=stopped), why=Grant.Ended.MODE_CHANGED
        )
    return sharing


def _preferences_locked(participant: Participant) -> LivePreferences:
    preferences, _created = LivePreferences.objects.select_for_update().get_or_create(
        participant=participant
    )
    return preferences


@transaction.atomic
def live_pause_set(*, actor: Actor, participant: Participant, paused: bool) -> LivePreferences:
    """Pause (or resume) live sharing of all the owner's cameras at once. Pausing ends every
    open grant on them in the same transaction: the relay's next check (within a second)
    stops the picture. Resuming starts nothing: staff must open a new grant, with a reason."""
    _owner_only(actor, participant)
    preferences = _preferences_locked(participant)
    if paused and not preferences.paused:
        preferences.paused_at = timezone.now()
    preferences.paused = paused
    preferences.save(update_fields=["paused", "paused_at"])
    if paused:
        # No actor: "owner paused" says who, and the owner's address has no place in staff's
        # audit trail.
        services.grants_end(
            grants=Grant.objects.open().filter(camera__site__participant=participant),
            why=Grant.Ended.OWNER_PAUSED,
        )
    return preferences


@transaction.atomic
def live_preferences_set(*, actor: Actor, participant: Participant, notify: str) -> LivePreferences:
    """How the owner hears of each live view of their cameras: an email at each, or one a day."""
    _owner_only(actor, participant)
    if notify not in LivePreferences.Notify.values:
        raise SharingRefused(_("Choose one of the notice choices shown."))
    preferences = _preferences_locked(participant)
    preferences.notify = notify
    preferences.save(update_fields=["notify"])
    return preferences


# ---------------------------------------------------------------------------------------------
# Notices to owners
# ---------------------------------------------------------------------------------------------


def _notice_at() -> Coalesce:
    """When the owner may be told of a grant: its notice_after when the department delayed it,
    its opening otherwise."""
    return Coalesce("notice_after", "opened_at")


def _unnotified(notify: str, due_before: datetime) -> QuerySet[Grant]:
    at_once = Q(camera__site__participant__live_preferences__isnull=True) | Q(
        camera__site__participant__live_preferences__notify=LivePreferences.Notify.AT_ONCE
    )
    wanted = (
        at_once
        if notify == LivePreferences.Notify.AT_ONCE
        else Q(camera__site__participant__live_preferences__notify=notify)
    )
    return (
        Grant.objects.annotate(notice_at=_notice_at())
        .filter(wanted, owner_notified_at__isnull=True, notice_at__lte=due_before)
        .order_by("notice_at", "pk")
    )


def _day_start(now: datetime, department: Department) -> datetime:
    """Midnight of `now`'s day in the department's time zone."""
    local = now.astimezone(department.zone)
    return datetime.combine(local.date(), time(0), tzinfo=department.zone)


def live_notices_send(*, now: datetime | None = None) -> int:
    """Tell owners of the live views of their cameras, in the current department's schema: an
    email per grant to owners who asked for one at each view (once its notice may be given),
    and one summary a day, of the previous day's views, to the others. Each grant is claimed
    (locked, skipping those another run holds, and marked) in the transaction that sends its
    email, so two runs at once never send one twice. Returns the number of emails sent."""
    now = now or timezone.now()
    department = current_department()
    sent = 0
    with department.in_time_zone():
        for grant_pk in list(
            _unnotified(LivePreferences.Notify.AT_ONCE, now).values_list("pk", flat=True)
        ):
            sent += _send_guarded(_notice_send, grant_pk, now, department)
        owners = (
            LivePreferences.objects.filter(notify=LivePreferences.Notify.DAILY)
            .filter(
                Q(summary_sent_until__isnull=True)
                | Q(summary_sent_until__lt=_day_start(now, department))
            )
            .values_list("pk", flat=True)
        )
        for preferences_pk in list(owners):
            sent += _send_guarded(_summary_send, preferences_pk, now, department)
    return sent


def _send_guarded(
    send: Callable[[int, datetime, Department], bool],
    pk: int,
    when: datetime,
    department: Department,
) -> int:
    """One owner's email in its own transaction; a mail server's failure rolls the claim back
    (the next run tries again) and does not stop the others."""
    try:
        with transaction.atomic():
            return int(send(pk, when, department))
    except Exception:
        logger.exception("Live view notice %s(%s) not sent", send.__name__, pk)
        return 0


def _notice_send(grant_pk: int, now: datetime, department: Department) -> bool:
    grant = (
        Grant.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk=grant_pk, owner_notified_at__isnull=True)
        .select_related("camera__site__participant__user")
        .first()
    )
    if grant is None:  # another run has it, or sent it
        return False
    grant.owner_notified_at = now
    grant.save(update_fields=["owner_notified_at"])
    participant = grant.camera.site.participant
    _owner_email(
        participant, "live_view", {"view": live_view_of(grant, department, now)}, department
    )
    return True


def _summary_send(preferences_pk: int, now: datetime, department: Department) -> bool:
    """The owner's summary of the views before today (the city's day), once a day."""
    day_start = _day_start(now, department)
    preferences = (
        LivePreferences.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk=preferences_pk)
        .filter(Q(summary_sent_until__isnull=True) | Q(summary_sent_until__lt=day_start))
        .select_related("participant__user")
        .first()
    )
    if preferences is None:  # another run has it, or sent today's
        return False
    participant = preferences.participant
    grants = list(
        _unnotified(LivePreferences.Notify.DAILY, day_start - timedelta(microseconds=1))
        .filter(camera__site__participant=participant)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("camera__site")
    )
    preferences.summary_sent_until = day_start
    preferences.save(update_fields=["summary_sent_until"])
    if not grants:
        return False
    Grant.objects.filter(pk__in=[grant.pk for grant in grants]).update(owner_notified_at=now)
    views = [live_view_of(grant, department, now) for grant in grants]
    _owner_email(
        participant,
        "live_summary",
        {"views": views, "day": (day_start - timedelta(hours=12)).date()},
        department,
    )
    return True


def _owner_email(
    participant: Participant, template: str, context: dict[str, Any], department: Department
) -> None:
    email_send(
        template=f"liveview/email/{template}",
        to=participant.user.email,
        language=participant.language or "en",
        context={
            "live_url": department.url("/my/live/"),
            "access_url": department.url("/my/access/"),
            **context,
        },
        department=department,
    )


__all__ = [
    "SCHEDULE_SPANS_MAX",
    "LiveView",
    "SharingRefused",
    "live_notices_send",
    "live_pause_set",
    "live_preferences_set",
    "schedule_clean",
    "sharing_set",
]
