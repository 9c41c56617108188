"""Owners' notices of access as a periodic job, one department at a time in its own schema
(Celery beat fans it out: canvass.schedule)."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from portal.access_notices.services import notices_collect, notices_send
from tenants.models import current_department

logger = logging.getLogger(__name__)


def notices_run(now: datetime) -> str:
    """Read the audit entries past the mark into pending notices, then send the due ones. Run
    twice, it sends nothing twice (one notice per entry and owner; each claimed before sent)."""
    collected = notices_collect(now=now)
    sent = notices_send(now=now)
    return f"{collected} notices collected, {sent} emails sent"


@shared_task(scheduled_job=True)
def access_notices() -> str:
    line = notices_run(timezone.now())
    logger.info("access_notices %s: %s", current_department().schema_name, line)
    return line
