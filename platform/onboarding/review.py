"""Vendor review of program requests: the queue's reads (its tabs, counts, search and flags) and
the vendor's writes (a status step, a note), each one transaction that records its history
line and its platform audit entry, and emails the requester at each status step."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import translation

from console.audit import platform_audit_record
from console.models import PlatformAuditEntry
from onboarding.emails import requester_email
from onboarding.models import ProgramRequest, ProgramRequestEvent
from tenants.models import Department

Status = ProgramRequest.Status

# A note's longest text (the history keeps it whole).
NOTE_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 2000

# The requester's email for each status a vendor may set (onboarding/email/<kind>.txt).
STATUS_EMAILS: dict[str, str] = {
    Status.IN_REVIEW: "in_review",
    Status.APPROVED: "approved",
    Status.DECLINED: "declined",
}


# ---------------------------------------------------------------------------------------------
# The queue (reads)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueTab:
    key: str
    label: str
    statuses: frozenset[str]
    # Work waits in these tabs: the oldest request first; elsewhere the newest first.
    oldest_first: bool


OPEN_STATUSES = frozenset({Status.NEW, Status.IN_REVIEW, Status.APPROVED})
QUEUE_TABS: tuple[QueueTab, ...] = (
    QueueTab("open", "Needs action", OPEN_STATUSES, True),
    QueueTab("new", "New", frozenset({Status.NEW}), True),
    QueueTab("in_review", "In review", frozenset({Status.IN_REVIEW}), True),
    QueueTab("approved", "Approved", frozenset({Status.APPROVED}), True),
    QueueTab("declined", "Declined", frozenset({Status.DECLINED}), False),
    QueueTab("provisioned", "Live", frozenset({Status.PROVISIONED}), False),
    # Not work yet: the requester has not followed the confirmation link.
    QueueTab("unconfirmed", "Email not confirmed", frozenset({Status.UNCONFIRMED}), False),
)
QUEUE_TAB_DEFAULT = "open"


def queue_tab(key: str) -> QueueTab:
    return next((tab for tab in QUEUE_TABS if tab.key == key), QUEUE_TABS[0])


def program_requests_flagged() -> QuerySet[ProgramRequest]:
    """Program requests with `city_served`: a department (other than the one provisioned from
    the request itself) already serves the same city and state."""
    served = Department.objects.cities().filter(
        city__iexact=OuterRef("city"), state__iexact=OuterRef("state")
    )
    return ProgramRequest.objects.select_related("duplicate_of", "department").annotate(
        # Coalesce: `id <> NULL` would exclude every department of a request not provisioned.
        city_served=Exists(served.exclude(pk=Coalesce(OuterRef("department_id"), 0))),
    )


def program_requests_queue(*, tab: str, query: str = "") -> QuerySet[ProgramRequest]:
    """The requests of one tab of the vendor's queue, searched by agency, city or email."""
    chosen = queue_tab(tab)
    found = program_requests_flagged().filter(status__in=chosen.statuses)
    query = query.strip()
    if query:
        found = found.filter(
            Q(agency_name__icontains=query)
            | Q(city__icontains=query)
            | Q(contact_email__icontains=query)
        )
    order = ["created_at", "pk"] if chosen.oldest_first else ["-created_at", "-pk"]
    return found.order_by(*order)


def program_request_counts() -> dict[str, int]:
    """How many requests each tab of the queue holds (one query)."""
    by_status = dict(
        ProgramRequest.objects.order_by()
        .values_list("status")
        .annotate(count=Count("pk"))
        .values_list("status", "count")
    )
    return {tab.key: sum(by_status.get(status, 0) for status in tab.statuses) for tab in QUEUE_TABS}


def program_requests_new_count() -> int:
    """The requests waiting for a first look (the console's navigation badge)."""
    return ProgramRequest.objects.filter(status=Status.NEW).count()


# ---------------------------------------------------------------------------------------------
# The vendor's steps (writes)
# ---------------------------------------------------------------------------------------------


def _label(status: str) -> str:
    """A status as the console (English only) says it in a sentence."""
    if status not in Status.values:
        return status
    with translation.override("en"):
        return str(Status(status).label).lower()


def _staff(actor: AbstractBaseUser | AnonymousUser | None) -> User | None:
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def program_request_transition(
    *,
    program_request: ProgramRequest,
    to_status: str,
    actor: AbstractBaseUser | AnonymousUser,
    reason: str = "",
) -> ProgramRequest:
    """Move the request to `to_status` if ProgramRequest.TRANSITIONS allows it from the status
    it has now (read under a row lock: of two staff clicking at once, the second is told what
    the first did, and the requester gets one email). Declining needs a reason, which the
    requester is sent. Returns the request as saved."""
    reason = reason.strip()
    if "\x00" in reason:
        raise ValidationError({"reason": "The reason contains a character that cannot be kept."})
    if to_status == Status.PROVISIONED:
        raise ValidationError(
            "Only provisioning makes a request live: use “Provision the department”."
        )
    if to_status == Status.NEW:
        raise ValidationError(
            "Only the requester's email confirmation puts a request in the queue as new."
        )
    if to_status not in STATUS_EMAILS:
        raise ValidationError(f"“{to_status}” is not a status a request can be given.")
    if to_status == Status.DECLINED and not reason:
        raise ValidationError(
            {"reason": "Say why the request is declined: the requester receives the reason."}
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            {"reason": f"Keep the reason under {REASON_MAX_LENGTH} characters ({len(reason)})."}
        )
    with transaction.atomic():
        locked = ProgramRequest.objects.select_for_update().filter(pk=program_request.pk).first()
        if locked is None:
            raise ValidationError("This request no longer exists.")
        if locked.status == to_status:
            raise ValidationError(f"The request is already {_label(to_status)}: nothing changed.")
        if not locked.can_become(to_status):
            raise ValidationError(
                f"A request that is {_label(locked.status)} cannot become "
                f"{_label(to_status)}: nothing changed."
            )
        from_status = locked.status
        locked.status = to_status
        locked.save(update_fields=["status", "updated_at"])
        ProgramRequestEvent.objects.create(
            request=locked,
            actor=_staff(actor),
            kind=ProgramRequestEvent.Kind.STATUS,
            from_status=from_status,
            to_status=to_status,
            text=reason,
        )
        platform_audit_record(
            actor=actor,
            action=PlatformAuditEntry.Action.PROGRAM_REQUEST,
            department=locked.department,
            detail={"what": "status", "request": locked.pk, "from": from_status, "to": to_status},
        )
        requester_email(
            locked,
            STATUS_EMAILS[to_status],
            reason=reason,
            reopened=from_status in {Status.APPROVED, Status.DECLINED},
        )
    return locked


def program_request_note(
    *, program_request: ProgramRequest, actor: AbstractBaseUser | AnonymousUser, text: str
) -> ProgramRequestEvent:
    """A vendor's note in the request's history (the requester is not told)."""
    text = text.strip()
    if "\x00" in text:
        raise ValidationError({"text": "The note contains a character that cannot be kept."})
    if not text:
        raise ValidationError({"text": "Write the note first."})
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {"text": f"Keep a note under {NOTE_MAX_LENGTH} characters ({len(text)})."}
        )
    with transaction.atomic():
        locked = ProgramRequest.objects.select_for_update().filter(pk=program_request.pk).first()
        if locked is None:
            raise ValidationError("This request no longer exists.")
        event = ProgramRequestEvent.objects.create(
            request=locked, actor=_staff(actor), kind=ProgramRequestEvent.Kind.NOTE, text=text
        )
        platform_audit_record(
            actor=actor,
            action=PlatformAuditEntry.Action.PROGRAM_REQUEST,
            department=locked.department,
            detail={"what": "note", "request": locked.pk},
        )
    return event
