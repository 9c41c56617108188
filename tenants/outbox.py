"""A transactional outbox in PostgreSQL for tasks that must not be lost when the broker (Redis)
is down: `enqueue()` writes an OutboxMessage in the caller's transaction, so the task is
recorded exactly when what it is about is (an area notice and its outbox row commit together,
or neither does); once the transaction commits, `dispatch()` hands it to the broker and marks
it dispatched. A hand-over that fails (the broker down, the process killed in between) leaves
the row undispatched, and the outbox job (tenants.tasks.outbox_dispatch, every minute in
canvass.schedule) hands it over again: at once for a row whose hand-over failed, after
OUTBOX_GRACE_SECONDS for one that was never tried (its request may still be committing it).

Delivery is at least once: the broker may receive a task twice (a dispatcher that dies after
the broker took the task and before the row is marked; two dispatchers racing). Only tasks
that are safe to run twice go through the outbox: portal.department.tasks.notify_area claims
each owner's copy before sending it, so a second run sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.db import tenant_connection
from tenants.models import OutboxMessage
from tenants.scheduling import broker_configured, job_lock

logger = logging.getLogger(__name__)
# How many rows one run of the outbox job hands over at most (the next run takes the rest).
BATCH = 500


def enqueue(task: str, args: list[object], *, subject: str = "") -> OutboxMessage:
    """Record that `task(*args)` must run for the current department, in the caller's
    transaction (which must be open: the row and what it is about commit together), and hand
    it to the broker once that transaction commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.enqueue() belongs in the transaction it is part of")
    message = OutboxMessage.objects.create(
        schema_name=tenant_connection.schema_name, task=task, args=args, subject=subject
    )
    transaction.on_commit(partial(dispatch, message.pk))
    return message


def dispatch(message_id: int) -> bool:
    """Hand one outbox row to the broker and mark it dispatched; True when it is (or already
    was). When the broker does not take it, the row keeps its failure (attempts, last_error),
    a warning is logged and False returned: the outbox job tries again, nothing is raised to
    the request that committed it. Without a broker (the demo) the task runs here, at once,
    and its error is raised as it would be without the outbox."""
    message = OutboxMessage.objects.filter(pk=message_id, dispatched_at__isnull=True).first()
    if message is None:
        return True
    try:
        # In the message's schema: without a broker the task runs here, at once, in it.
        with schema_context(message.schema_name):
            current_app.tasks[message.task].apply_async(
                args=message.args, headers={"_schema_name": message.schema_name}
            )
    except Exception as error:
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=F("attempts") + 1, last_error=type(error).__name__[:200]
        )
        if not broker_configured():
            raise
        logger.warning(
            "outbox: %s for %s not handed to the broker (%s); the outbox job tries again",
            message.task,
            message.schema_name,
            type(error).__name__,
        )
        return False
    OutboxMessage.objects.filter(pk=message.pk, dispatched_at__isnull=True).update(
        dispatched_at=timezone.now()
    )
    return True


def due(now: datetime | None = None) -> QuerySet[OutboxMessage]:
    """Rows the outbox job hands over: undispatched, and either already refused once or older
    than the grace period (a row younger than that may still be on its way from its commit)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.OUTBOX_GRACE_SECONDS)
    return OutboxMessage.objects.filter(
        Q(attempts__gt=0) | Q(created_at__lte=cutoff), dispatched_at__isnull=True
    )


def redispatch() -> int:
    """The outbox job: hand over every due row, oldest first, stopping at the first the broker
    refuses (it is still down: the next run tries again), and delete the rows dispatched more
    than OUTBOX_KEEP_DAYS ago. One run at a time (an advisory lock). Returns how many rows were
    handed over."""
    handed = 0
    with job_lock("tenants.outbox.redispatch", "public") as held:
        if not held:
            logger.info("outbox: another run is still at work")
            return 0
        for message_id in due().order_by("created_at").values_list("pk", flat=True)[:BATCH]:
            try:
                if not dispatch(message_id):
                    break
            except Exception:
                # Without a broker the task ran here and failed: the next ones still go.
                logger.exception("outbox: message %s failed", message_id)
                continue
            handed += 1
        # Rows handed over long ago are history: kept OUTBOX_KEEP_DAYS for an operator's look.
        kept_since = timezone.now() - timedelta(days=settings.OUTBOX_KEEP_DAYS)
        OutboxMessage.objects.filter(dispatched_at__lt=kept_since).delete()
    if handed:
        logger.info("outbox: %d undispatched tasks handed to the broker", handed)
    return handed


def undispatched_subjects(subjects: list[str]) -> set[str]:
    """Which of these subjects (of the current department) still wait in the outbox."""
    return set(
        OutboxMessage.objects.filter(
            schema_name=tenant_connection.schema_name,
            subject__in=subjects,
            dispatched_at__isnull=True,
        ).values_list("subject", flat=True)
    )
