"""Background jobs of the department console (Celery; in-process when no broker is set)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple, TypedDict

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.contrib.auth import get_user_model
from django.core.mail import get_connection
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from portal.department import selectors
from portal.department.models import Notification, NotificationRecipient
from portal.registry import services as registry_services
from portal.registry.emails import EmailForm, email_form
from portal.registry.models import ImportJob, Participant, Site, email_deliverable_condition
from tenants.db import tenant_connection
from tenants.models import Program, current_department
from tenants.signing import Link, link_sign

# Each kind of notification says its own thing.
EMAIL_TEMPLATES = {
    Notification.Kind.AREA: "department/email/notification",
    Notification.Kind.FOOTAGE_REQUEST: "department/email/footage_request",
}
logger = logging.getLogger(__name__)


def answer_token(recipient: NotificationRecipient) -> str:
    """The recipient's answer link (notice or footage request), for this city's portal only."""
    return link_sign(Link.ANSWER, {"r": recipient.pk})


def notification_owners(notification: Notification) -> set[int]:
    """The participants a notification addresses now: the owner of the requested site, or
    for an area notice the owners in its radius not contacted about the case before
    (selectors.area_notice_owners), as long as the site is searchable (neither paused nor
    lapsed) when the job runs and the owner's address is not known to be undeliverable (the
    canvass page flags those owners for a call instead)."""
    if not notification.is_footage_request:
        return selectors.area_notice_owners(
            notification.incident,
            radius_m=notification.radius_m or 0,
            notification_id=notification.pk,
        )
    if notification.site_id is None:
        return set()  # the site is gone (its owner left): nobody to ask
    sites = Site.objects.searchable().filter(pk=notification.site_id)
    sites = sites.filter(email_deliverable_condition("participant__"))
    return set(sites.values_list("participant_id", flat=True))


# One statement (it commits by itself) per email: record the copy just sent, and claim the next
# unclaimed one after it, with its owner's address and language. The claimed row is locked while
# it is marked, and SKIP LOCKED lets a concurrent run take the following copy instead of waiting
# for this one.
NEXT_COPY = """
    WITH sent AS (UPDATE {table} SET sent_at = %(now)s WHERE id = %(sent)s),
    claimed AS (
        UPDATE {table} SET claimed_at = %(now)s
        WHERE id = (
            SELECT id FROM {table}
            WHERE notification_id = %(notification)s AND claimed_at IS NULL AND id > %(after)s
            ORDER BY id LIMIT 1
            FOR UPDATE SKIP LOCKED
        )
        RETURNING id, participant_id
    )
    SELECT claimed.id, claimed.participant_id, owner.email, participant.language
    FROM claimed
    JOIN {participant} participant ON participant.id = claimed.participant_id
    JOIN {user} owner ON owner.id = participant.user_id
"""


def next_copy_statement() -> str:
    """NEXT_COPY with the current schema's tables."""
    quote = connection.ops.quote_name
    return NEXT_COPY.format(
        table=quote(NotificationRecipient._meta.db_table),
        participant=quote(Participant._meta.db_table),
        user=quote(get_user_model()._meta.db_table),
    )


class Claimed(NamedTuple):
    """A copy claimed for this run, and where and in which language its owner reads it."""

    copy: NotificationRecipient
    email: str
    language: str


def copy_next(
    notification: Notification, *, after: int, sent: int | None, now: datetime | None = None
) -> Claimed | None:
    """Record the copy `sent` (if any) as sent, and claim the next copy of the notification
    after the id `after` for this run, both at `now`; None when none is left. Committed before
    the caller sends anything."""
    with connection.cursor() as cursor:
        cursor.execute(
            next_copy_statement(),
            {
                "now": now or timezone.now(),
                "notification": notification.pk,
                "after": after,
                "sent": sent,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    pk, participant_id, email, language = row
    copy = NotificationRecipient(pk=pk, notification=notification, participant_id=participant_id)
    return Claimed(copy=copy, email=email, language=language)


# How many runs share out one notice's copies (notify_area queues the others once the copies
# exist). Each claim waits for its commit to reach the disk (about 0.3 ms); runs that claim at
# once share their flushes (PostgreSQL's group commit), where one run alone waits for each. Every
# process of every worker can take one; a run has at most one copy in flight, so a killed worker
# leaves at most one copy of unknown delivery per process that was sending it.
RUNS_PER_NOTICE = 4

# A database that stops answering mid-run (a restart, a failover): the run is retried with what
# it knows about the copy it was handling, after 2, 4, 8... up to 60 s, for about 8 minutes.
DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRIES = 12
DATABASE_BACKOFF_MAX = 60


class Unsettled(TypedDict):
    """What a run cut off by the database knew and could not write: the copy it had emailed
    (`sent`), and the time of the claim it could not act on (`claimed_at`, ISO 8601): the
    statement that failed may have committed a claim of the next copy, or a copy was claimed
    and not emailed. Either id may be missing."""

    sent: int | None
    claimed_at: str | None


class DatabaseLost(Exception):
    """The database stopped answering during a run; `unsettled` says what the retry settles."""

    def __init__(self, unsettled: Unsettled) -> None:
        super().__init__("the database stopped answering")
        self.unsettled = unsettled


def copies_settle(notification_id: int, unsettled: Unsettled) -> None:
    """Before a retried run claims anything: the copy the cut-off run emailed is recorded as
    sent, and a copy claimed by it and never emailed is released for this run to send. Two
    copies claimed at the same instant (two runs at once) are both left claimed: either may be
    the other run's, emailed; "delivery unknown" is better than a second email."""
    copies = NotificationRecipient.objects.filter(notification_id=notification_id)
    with transaction.atomic():
        if unsettled["sent"] is not None:
            copies.filter(pk=unsettled["sent"], sent_at__isnull=True).update(sent_at=timezone.now())
        if unsettled["claimed_at"] is not None:
            claimed_at = datetime.fromisoformat(unsettled["claimed_at"])
            claimed = copies.filter(claimed_at=claimed_at, sent_at__isnull=True)
            released = list(claimed.values_list("pk", flat=True)[:2])
            if len(released) == 1:
                copies.filter(pk=released[0]).update(claimed_at=None)


# SMTP errors are OSErrors: the mail server is down or refused, try again later. A worker killed
# mid-batch: the task goes back to the queue (acknowledged only once it ran, and rejected rather
# than acknowledged when its pool process dies) and the next run sends the copies not claimed.
@shared_task(
    bind=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    reject_on_worker_lost=True,
)
def notify_area(
    self: Task[Any, int],
    notification_id: int,
    unsettled: Unsettled | None = None,
    joining: bool = False,
) -> int:
    """Email each owner the notification addresses, at most once however often and however
    many at a time it runs (a retry, a redelivered task, two workers). Returns how many this
    run emailed.

    Each copy is delivered in three steps: claimed (marked and committed; SKIP LOCKED shares
    the owners out between concurrent runs), sent, then recorded as sent (copy_next). The
    claim comes before the email so that a run that dies after the mail server took the email
    never sends it again: for a police notice a second email is worse than a missing one, and
    a copy claimed but never recorded as sent is counted on the incident page ("delivery
    unknown") for staff to follow up. A send the mail server refuses raises: the copy is
    released and the task's retry sends it.

    Through a broker, the first run queues RUNS_PER_NOTICE - 1 more once the copies exist
    (`joining`: they only claim and send; fewer for fewer copies, none for a footage request),
    so that the worker processes free to take them share the copies out. Each run has at most
    one copy in flight: a killed worker leaves at most one copy "delivery unknown" for each of
    its processes that was running the notice.

    When the database stops answering, the run knows what it could not write (DatabaseLost):
    the retry, once the database is back, records the copy already emailed as sent and
    releases the one claimed and not emailed (copies_settle), so a restart of the database
    leaves every owner emailed exactly once and no copy in "delivery unknown"."""
    through_broker = not (self.request.is_eager or self.request.called_directly)

    def runs_join(copies: int) -> None:
        if not through_broker or joining or unsettled is not None or self.request.retries:
            return
        for _run in range(min(RUNS_PER_NOTICE, copies) - 1):
            try:
                self.apply_async(kwargs={"notification_id": notification_id, "joining": True})
            except Exception as error:  # the broker gone: this run sends every copy itself
                logger.warning(
                    "notify_area %s: a joining run not queued (%s); this run sends alone",
                    notification_id,
                    type(error).__name__,
                )
                return

    try:
        if unsettled is not None:
            copies_settle(notification_id, unsettled)
        return notify_area_run(notification_id, joining=joining, copies_made=runs_join)
    except (DatabaseLost, *DATABASE_ERRORS) as error:
        if not through_broker:
            raise
        retry_kwargs: dict[str, Any] = {"notification_id": notification_id, "joining": joining}
        retry_kwargs["unsettled"] = (
            error.unsettled if isinstance(error, DatabaseLost) else unsettled
        )
        countdown = get_exponential_backoff_interval(
            factor=2, retries=self.request.retries, maximum=DATABASE_BACKOFF_MAX, full_jitter=False
        )
        logger.warning(
            "notify_area %s: the database stopped answering; retried in %s s",
            notification_id,
            countdown,
        )
        raise self.retry(
            args=(),
            kwargs=retry_kwargs,
            exc=error,
            countdown=countdown,
            max_retries=DATABASE_RETRIES,
        ) from error


def notification_copies_make(notification: Notification) -> int:
    """A copy of the notification for each owner it addresses now (notification_owners), and
    none left unclaimed for an owner it no longer addresses; returns how many owners that is."""
    owners = notification_owners(notification)
    copies = NotificationRecipient.objects.filter(notification=notification)
    # Copies an earlier run made for owners who paused or lapsed since: never sent, so never
    # answered; the notice no longer addresses them.
    copies.filter(claimed_at__isnull=True).exclude(participant_id__in=owners).delete()
    NotificationRecipient.objects.bulk_create(
        (NotificationRecipient(notification=notification, participant_id=pk) for pk in owners),
        ignore_conflicts=True,
    )
    return len(owners)


def notify_area_run(
    notification_id: int,
    *,
    joining: bool = False,
    copies_made: Callable[[int], None] | None = None,
) -> int:
    """One run of notify_area: the copies made (notification_copies_make; not by a `joining`
    run, queued once they were) and `copies_made(owners)` called, then the copies claimed and
    sent one at a time. DatabaseLost when the database stops answering once copies are being
    claimed."""
    notification = Notification.objects.select_related("incident").get(pk=notification_id)
    if not joining:
        owners = notification_copies_make(notification)
        if copies_made is not None:
            copies_made(owners)
    copies = NotificationRecipient.objects.filter(notification=notification)
    department = current_department()
    context = {
        "notification": notification,
        "incident": notification.incident,
        "answer_url": department.url("/answer/{}/"),
    }
    template = EMAIL_TEMPLATES[Notification.Kind(notification.kind)]
    # Rendered once per language, the answer link filled in per copy.
    forms: dict[str, EmailForm] = {}
    sent = 0
    # Opened before anything is claimed: a mail server that is down claims nobody. Each claim
    # waits for its commit to reach the disk: a claim lost in a database crash would send that
    # owner a second email, which is worse than a missing one.
    with get_connection() as mail:
        claimed_at = timezone.now()
        try:
            claimed = copy_next(notification, after=0, sent=None, now=claimed_at)
        except DATABASE_ERRORS as error:
            raise DatabaseLost({"sent": None, "claimed_at": claimed_at.isoformat()}) from error
        while claimed is not None:
            recipient = claimed.copy
            sending = False
            try:
                form = forms.get(claimed.language)
                if form is None:
                    form = forms[claimed.language] = email_form(
                        template=template,
                        language=claimed.language,
                        context=context,
                        blank_in="answer_url",
                        department=department,
                    )
                message = form.fill(to=claimed.email, value=answer_token(recipient))
                sending = True
                mail.send_messages([message])
            except DATABASE_ERRORS as error:
                # Not emailed: released by the retry. Failing inside the send (a backend that
                # writes down what it sent), it may have gone: left claimed, never sent twice.
                raise DatabaseLost(
                    {"sent": None, "claimed_at": None if sending else claimed_at.isoformat()}
                ) from error
            except Exception:
                copies.filter(pk=recipient.pk).update(claimed_at=None)
                raise
            sent += 1
            emailed = recipient.pk
            claimed_at = timezone.now()
            try:
                claimed = copy_next(notification, after=emailed, sent=emailed, now=claimed_at)
            except DATABASE_ERRORS as error:
                # Emailed and not recorded; the next copy's claim may or may not have committed.
                raise DatabaseLost(
                    {"sent": emailed, "claimed_at": claimed_at.isoformat()}
                ) from error
    return sent


def _program() -> Program:
    """The current department's program settings, read afresh for each job."""
    return Program.objects.get(department__schema_name=tenant_connection.schema_name)


@shared_task(reject_on_worker_lost=True)
def registry_import_check(job_id: int) -> None:
    """Check an uploaded import's rows once, with progress (registry.services.import_check_run)."""
    try:
        registry_services.import_check_run(job_id=job_id, program=_program())
    except Exception:
        logger.exception("registry import %s: the check failed", job_id)
        registry_services.import_failed(job_id=job_id)


@shared_task(reject_on_worker_lost=True)
def registry_import_commit(job_id: int) -> int:
    """Write a confirmed import, all or nothing (registry.services.registry_import); returns
    how many sites were written. A worker killed mid-way rolls the one transaction back and
    the task comes back to the queue: the job, still committing, is written by the next run."""
    job = ImportJob.objects.select_related("committed_by__user").get(pk=job_id)
    try:
        return registry_services.registry_import(
            actor=registry_services.import_actor(job), job=job, program=_program()
        )
    except registry_services.ImportNotReady:
        return 0  # already written or dropped: a retried task does nothing twice
    except Exception:
        logger.exception("registry import %s: the commit failed", job_id)
        registry_services.import_failed(job_id=job_id)
        return 0


@shared_task(scheduled_job=True)
def footage_sweep() -> str:
    """Footage files no clip names, left by an upload whose row and file deletion both failed
    (portal.department.services.footage_orphans_sweep), in the current schema."""
    from portal.department.services import footage_orphans_sweep

    line = f"{footage_orphans_sweep(now=timezone.now())} orphan footage files deleted"
    logger.info("footage_sweep %s: %s", current_department().schema_name, line)
    return line
