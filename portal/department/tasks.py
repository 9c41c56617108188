"""Background jobs of the department console (Celery; in-process when no broker is set)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, TypedDict

from celery import Task, shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.core.mail import get_connection
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from portal.department import selectors
from portal.department.models import Notification, NotificationRecipient
from portal.registry import services as registry_services
from portal.registry.emails import email_message
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
# unclaimed one after it. The claimed row is locked while it is marked, and SKIP LOCKED lets a
# concurrent run take the following copy instead of waiting for this one.
NEXT_COPY = """
    WITH sent AS (UPDATE {table} SET sent_at = %(now)s WHERE id = %(sent)s)
    UPDATE {table} SET claimed_at = %(now)s
    WHERE id = (
        SELECT id FROM {table}
        WHERE notification_id = %(notification)s AND claimed_at IS NULL AND id > %(after)s
        ORDER BY id LIMIT 1
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id, participant_id
"""


def copy_next(
    notification: Notification, *, after: int, sent: int | None, now: datetime | None = None
) -> NotificationRecipient | None:
    """Record the copy `sent` (if any) as sent, and claim the next copy of the notification
    after the id `after` for this run, both at `now`; None when none is left. Committed before
    the caller sends anything."""
    with connection.cursor() as cursor:
        cursor.execute(
            NEXT_COPY.format(table=connection.ops.quote_name(NotificationRecipient._meta.db_table)),
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
    return NotificationRecipient(pk=row[0], notification=notification, participant_id=row[1])


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
    sent, and a copy claimed by it and never emailed is released for this run to send."""
    copies = NotificationRecipient.objects.filter(notification_id=notification_id)
    with transaction.atomic():
        if unsettled["sent"] is not None:
            copies.filter(pk=unsettled["sent"], sent_at__isnull=True).update(sent_at=timezone.now())
        if unsettled["claimed_at"] is not None:
            claimed_at = datetime.fromisoformat(unsettled["claimed_at"])
            copies.filter(claimed_at=claimed_at, sent_at__isnull=True).update(claimed_at=None)


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
    self: Task[Any, int], notification_id: int, unsettled: Unsettled | None = None
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

    When the database stops answering, the run knows what it could not write (DatabaseLost):
    the retry, once the database is back, records the copy already emailed as sent and
    releases the one claimed and not emailed (copies_settle), so a restart of the database
    leaves every owner emailed exactly once and no copy in "delivery unknown"."""
    try:
        if unsettled is not None:
            copies_settle(notification_id, unsettled)
        return notify_area_run(notification_id)
    except (DatabaseLost, *DATABASE_ERRORS) as error:
        if self.request.is_eager or self.request.called_directly:
            raise
        retry_kwargs: dict[str, Any] = {"notification_id": notification_id}
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


def notify_area_run(notification_id: int) -> int:
    """One run of notify_area; DatabaseLost when the database stops answering once copies are
    being claimed."""
    notification = Notification.objects.select_related("incident").get(pk=notification_id)
    owners = notification_owners(notification)
    copies = NotificationRecipient.objects.filter(notification=notification)
    # Copies an earlier run made for owners who paused or lapsed since: never sent, so never
    # answered; the notice no longer addresses them.
    copies.filter(claimed_at__isnull=True).exclude(participant_id__in=owners).delete()
    NotificationRecipient.objects.bulk_create(
        (NotificationRecipient(notification=notification, participant_id=pk) for pk in owners),
        ignore_conflicts=True,
    )
    addressed = Participant.objects.values_list("pk", "user__email", "language")
    addresses = {pk: (email, language) for pk, email, language in addressed.filter(pk__in=owners)}
    template = EMAIL_TEMPLATES[Notification.Kind(notification.kind)]
    department = current_department()
    sent = 0
    # Opened before anything is claimed: a mail server that is down claims nobody. Each claim
    # waits for its commit to reach the disk: a claim lost in a database crash would send that
    # owner a second email, which is worse than a missing one.
    with get_connection() as mail:
        claimed_at = timezone.now()
        try:
            recipient = copy_next(notification, after=0, sent=None, now=claimed_at)
        except DATABASE_ERRORS as error:
            raise DatabaseLost({"sent": None, "claimed_at": claimed_at.isoformat()}) from error
        while recipient is not None:
            sending = False
            try:
                # A concurrent run may have added an owner who registered in between.
                email, language = (
                    addresses.get(recipient.participant_id)
                    or addressed.get(pk=recipient.participant_id)[1:]
                )
                message = email_message(
                    template=template,
                    to=email,
                    language=language,
                    context={
                        "notification": notification,
                        "incident": notification.incident,
                        "answer_url": department.url(f"/answer/{answer_token(recipient)}/"),
                    },
                    department=department,
                )
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
                recipient = copy_next(notification, after=emailed, sent=emailed, now=claimed_at)
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
