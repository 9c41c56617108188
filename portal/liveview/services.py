"""Live view's writes: grants to watch one camera, and how every grant ends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from portal.liveview.models import Grant
from portal.registry.audit import Actor, audit_record
from portal.registry.models import AuditEntry


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
    why_label = Grant.Ended(why).label
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


def grants_expire(*, now: datetime | None = None) -> int:
    """End every grant past its expiry that nothing has ended yet (the sweep's work; media
    already stopped at the expiry: the relay's check sees `expires_at`). Idempotent."""
    now = now or timezone.now()
    return grants_end(
        grants=Grant.objects.filter(ended_at__isnull=True, expires_at__lte=now),
        why=Grant.Ended.EXPIRED,
    )
