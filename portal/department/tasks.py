"""Background jobs of the department console (Celery; in-process when no broker is set)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypedDict
from uuid import UUID, uuid4

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


def answer_token(recipient: NotificationRecipient | Claimed) -> str:
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


# How many copies one claim takes at most. Each claim is one statement that commits by itself
# and waits for its flush to disk: one per copy was 5,000 commits for 5,000 owners (1.8 to 3.2 s
# one after another here). Claims of 20 are 250 (0.4 to 1.4 s for one run alone; of 10, 1.9 s;
# of 50, 0.3 to 0.6 s, but no faster through the queue, where the runs' claims wait while the
# others work), and a killed worker leaves at most 20 copies per run "delivery unknown"
# (docs/benchmarks.md, "Notices in batches of claims").
CLAIM_BATCH = 20

# How many runs share out one notice's copies (notify_area queues the others once the copies
# exist): every process of every worker can take one, and a notice to owners on a slow mail
# server is sent that many emails at a time.
RUNS_PER_NOTICE = 4


def claim_size(copies: int) -> int:
    """How many copies each claim of a notice of `copies` copies takes: CLAIM_BATCH, fewer for
    a small notice so that each of its runs gets some (one copy at a time for fewer copies than
    RUNS_PER_NOTICE)."""
    return max(1, min(CLAIM_BATCH, copies // RUNS_PER_NOTICE))


# One statement (it commits by itself) per batch: record the copies of the previous batch that
# were emailed as sent, and claim up to `size` unclaimed copies after the last one this run
# claimed, under a token of this claim's own, with each owner's address and language. The
# claimed rows are locked while they are marked, and SKIP LOCKED lets a concurrent run take the
# following copies instead of waiting for these.
CLAIM_NEXT = """
    WITH next AS MATERIALIZED (
        SELECT id FROM {table}
        WHERE notification_id = %(notification)s AND claimed_at IS NULL AND id > %(after)s
        ORDER BY id LIMIT %(size)s
        FOR UPDATE SKIP LOCKED
    ),
    sent AS (
        UPDATE {table} SET sent_at = %(now)s
        WHERE id = ANY(%(sent)s::bigint[]) AND sent_at IS NULL
    ),
    claimed AS (
        UPDATE {table} recipient SET claimed_at = %(now)s, claim = %(claim)s
        FROM next WHERE recipient.id = next.id
        RETURNING recipient.id, recipient.participant_id
    )
    SELECT claimed.id, claimed.participant_id, owner.email, participant.language
    FROM claimed
    JOIN {participant} participant ON participant.id = claimed.participant_id
    JOIN {user} owner ON owner.id = participant.user_id
"""


def claim_next_statement() -> str:
    """CLAIM_NEXT with the current schema's tables."""
    quote = connection.ops.quote_name
    return CLAIM_NEXT.format(
        table=quote(NotificationRecipient._meta.db_table),
        participant=quote(Participant._meta.db_table),
        user=quote(get_user_model()._meta.db_table),
    )


class Claimed(NamedTuple):
    """A copy claimed for this run (its id, `pk`, as a NotificationRecipient's), and where and in
    which language its owner reads it."""

    pk: int
    participant_id: int
    email: str
    language: str


def copies_claim(
    notification: Notification,
    *,
    claim: UUID,
    after: int,
    size: int,
    sent: Sequence[int] = (),
    now: datetime | None = None,
) -> list[Claimed]:
    """Record the copies `sent` (emailed) as sent, and claim up to `size` copies of the
    notification after the id `after` for this run under the token `claim`, both at `now`;
    the copies claimed in id order, none when none is left. Committed before the caller sends
    anything."""
    with connection.cursor() as cursor:
        cursor.execute(
            claim_next_statement(),
            {
                "now": now or timezone.now(),
                "notification": notification.pk,
                "after": after,
                "size": size,
                "sent": list(sent),
                "claim": claim,
            },
        )
        return sorted(Claimed._make(row) for row in cursor.fetchall())


# A database that stops answering mid-run (a restart, a failover): the run is retried with what
# it knows about the copies it was handling, after 2, 4, 8... up to 60 s, for about 8 minutes.
DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRIES = 12
DATABASE_BACKOFF_MAX = 60


class Unsettled(TypedDict, total=False):
    """What a run knew and could not write (JSON, a task's keyword argument): the copies it
    emailed and had not recorded as sent (`sent`), and the token of its last claim (`claim`),
    whose copies it did not email are to be released, all but one it was handing to the mail
    server when it stopped (`doubt`: a backend that writes down what it sends may have sent
    it). The claim's statement itself may have failed, committed or not: its token finds what
    it claimed either way. A run queued before claims came in batches carries `sent` (one id
    or None) and `claimed_at` (the time of its claim, ISO 8601) instead."""

    sent: list[int] | int | None
    claim: str | None
    doubt: list[int]
    claimed_at: str | None


class DatabaseLost(Exception):
    """The database stopped answering during a run; `unsettled` says what the retry settles."""

    def __init__(self, unsettled: Unsettled) -> None:
        super().__init__("the database stopped answering")
        self.unsettled = unsettled


def copies_settle(notification_id: int, unsettled: Unsettled) -> None:
    """What a run stopped midway knew, written in one transaction (before a retried run claims
    anything, or by the run itself when the mail server refuses an email): the copies it emailed
    recorded as sent, and the copies of its claim it never emailed released for a run to send.
    Only copies still under that claim's token are released: never one another run claimed
    since, nor one in doubt. (The shape of a run queued before claims came in batches: copies
    claimed at the same instant are both left claimed, since either may be another run's,
    emailed; "delivery unknown" is better than a second email.)"""
    copies = NotificationRecipient.objects.filter(notification_id=notification_id)
    sent = unsettled.get("sent")
    emailed = [sent] if isinstance(sent, int) else list(sent or ())
    with transaction.atomic():
        if emailed:
            copies.filter(pk__in=emailed, sent_at__isnull=True).update(sent_at=timezone.now())
        if unsettled.get("claim"):
            unsent = copies.filter(claim=unsettled["claim"], sent_at__isnull=True)
            unsent.exclude(pk__in=unsettled.get("doubt") or ()).update(claimed_at=None, claim=None)
        elif unsettled.get("claimed_at"):
            claimed_at = datetime.fromisoformat(str(unsettled["claimed_at"]))
            claimed = copies.filter(claimed_at=claimed_at, sent_at__isnull=True)
            released = list(claimed.values_list("pk", flat=True)[:2])
            if len(released) == 1:
                copies.filter(pk=released[0]).update(claimed_at=None)


class MailNotTaken(OSError):
    """The email backend reported an email as not sent without raising (send_messages returned
    0): retried like a refusal."""


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
    size: int | None = None,
) -> int:
    """Email each owner the notification addresses, at most once however often and however
    many at a time it runs (a retry, a redelivered task, two workers). Returns how many this
    run emailed.

    Each copy is delivered in three steps: claimed (marked and committed; SKIP LOCKED shares
    the owners out between concurrent runs), sent, then recorded as sent. Copies are claimed in
    batches (up to CLAIM_BATCH, claim_size): one statement records the previous batch's emails
    as sent and claims the next batch (copies_claim). The claim comes before the emails so that
    a run that dies after the mail server took an email never sends it again: for a police
    notice a second email is worse than a missing one, and a copy claimed but never recorded as
    sent is counted on the incident page ("delivery unknown") for staff to follow up. Each
    email of a batch is handed to the mail server on its own (one connection for the run), so
    the run knows which it sent: a send the mail server refuses raises after the emails of the
    batch already sent are recorded and the others released (copies_settle); the task's retry
    sends them.

    Through a broker, the first run queues RUNS_PER_NOTICE - 1 more once the copies exist
    (`joining`: they only claim and send, `size` copies a claim; fewer for fewer copies, none
    for a footage request), so that the worker processes free to take them share the copies
    out. Each run has at most one batch in flight: a killed worker leaves at most one batch
    "delivery unknown" for each of its processes that was running the notice.

    When the database stops answering, the run knows what it could not write (DatabaseLost):
    the retry, once the database is back, records the copies already emailed as sent and
    releases the ones its claim took and it did not email (copies_settle), so a restart of the
    database leaves every owner emailed exactly once and no copy in "delivery unknown"."""
    through_broker = not (self.request.is_eager or self.request.called_directly)

    def runs_join(copies: int) -> None:
        if not through_broker or joining or unsettled is not None or self.request.retries:
            return
        for _run in range(min(RUNS_PER_NOTICE, copies) - 1):
            try:
                self.apply_async(
                    kwargs={
                        "notification_id": notification_id,
                        "joining": True,
                        "size": claim_size(copies),
                    }
                )
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
        return notify_area_run(notification_id, joining=joining, size=size, copies_made=runs_join)
    except (DatabaseLost, *DATABASE_ERRORS) as error:
        if not through_broker:
            raise
        retry_kwargs: dict[str, Any] = {
            "notification_id": notification_id,
            "joining": joining,
            "size": size,
        }
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


# A copy for each owner in one statement: bulk_create built and compiled 5,000 model instances
# (0.3 s), about a third of a 5,000-owner notice. The columns without a default are given.
COPIES_MAKE = """
    INSERT INTO {table} (notification_id, participant_id, answer)
    SELECT %(notification)s, owners.id, '' FROM unnest(%(owners)s::bigint[]) AS owners(id)
    ON CONFLICT DO NOTHING
"""


def notification_copies_make(notification: Notification) -> int:
    """A copy of the notification for each owner it addresses now (notification_owners), and
    none left unclaimed for an owner it no longer addresses; returns how many owners that is."""
    owners = notification_owners(notification)
    copies = NotificationRecipient.objects.filter(notification=notification)
    # Copies an earlier run made for owners who paused or lapsed since: never sent, so never
    # answered; the notice no longer addresses them.
    unclaimed = set(copies.filter(claimed_at__isnull=True).values_list("participant_id", flat=True))
    if unclaimed - owners:
        copies.filter(claimed_at__isnull=True, participant_id__in=unclaimed - owners).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            COPIES_MAKE.format(
                table=connection.ops.quote_name(NotificationRecipient._meta.db_table)
            ),
            {"notification": notification.pk, "owners": sorted(owners)},
        )
    return len(owners)


def notify_area_run(
    notification_id: int,
    *,
    joining: bool = False,
    size: int | None = None,
    copies_made: Callable[[int], None] | None = None,
) -> int:
    """One run of notify_area: the copies made (notification_copies_make; not by a `joining`
    run, queued once they were) and `copies_made(owners)` called, then the copies claimed in
    batches (`size` copies a claim, by default claim_size of the owners) and sent one by one.
    DatabaseLost when the database stops answering once copies are being claimed."""
    notification = Notification.objects.select_related("incident").get(pk=notification_id)
    if not joining:
        owners = notification_copies_make(notification)
        if copies_made is not None:
            copies_made(owners)
        size = size or claim_size(owners)
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
    # waits for its commit to reach the disk: a claim lost in a database crash would send its
    # owners a second email, which is worse than a missing one.
    with get_connection() as mail:
        emailed: list[int] = []  # of the previous batch, recorded by the next claim
        after = 0
        while True:
            claim = uuid4()
            try:
                batch = copies_claim(
                    notification, claim=claim, after=after, size=size or CLAIM_BATCH, sent=emailed
                )
            except DATABASE_ERRORS as error:
                # The last batch emailed and not recorded; this claim may or may not have
                # committed: its token finds its copies.
                raise DatabaseLost({"sent": emailed, "claim": str(claim), "doubt": []}) from error
            if not batch:
                return sent
            after = batch[-1].pk
            emailed = []
            for claimed in batch:
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
                    message = form.fill(to=claimed.email, value=answer_token(claimed))
                    sending = True
                    if mail.send_messages([message]) != 1:
                        raise MailNotTaken(f"the mail backend did not send copy {claimed.pk}")
                except DATABASE_ERRORS as error:
                    # Not emailed: released by the retry. Failing inside the send (a backend
                    # that writes down what it sent), it may have gone: left claimed, never
                    # sent twice.
                    doubt = [claimed.pk] if sending else []
                    raise DatabaseLost(
                        {"sent": emailed, "claim": str(claim), "doubt": doubt}
                    ) from error
                except Exception:
                    # Refused: the emails of the batch sent so far recorded, this one and the
                    # rest released for the task's retry.
                    unsettled: Unsettled = {"sent": emailed, "claim": str(claim), "doubt": []}
                    try:
                        copies_settle(notification.pk, unsettled)
                    except DATABASE_ERRORS as error:
                        raise DatabaseLost(unsettled) from error
                    raise
                emailed.append(claimed.pk)
                sent += 1


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
