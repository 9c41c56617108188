"""The owner's side of live view: what each of their cameras shares and when, the pause of
everything at once. Owners hear of each view through their access notices
(portal.access_notices), which read the grant's LIVE_FEED audit entry."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.liveview import rules, services
from portal.liveview.models import Grant, LivePreferences, Sharing
from portal.registry.audit import Actor
from portal.registry.models import Camera, Participant, Site
from tenants.models import current_department

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


__all__ = [
    "SCHEDULE_SPANS_MAX",
    "SharingRefused",
    "live_pause_set",
    "schedule_clean",
    "sharing_set",
]
