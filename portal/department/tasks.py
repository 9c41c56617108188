"""Background jobs of the department console (Celery; in-process when no broker is set)."""

from __future__ import annotations

import logging

from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from canvass.celery import app
from portal.department.models import Notification, NotificationRecipient
from portal.registry import services as registry_services
from portal.registry.models import ImportJob, Site
from portal.registry.selectors import sites_near
from tenants.models import Program

logger = logging.getLogger(__name__)
ANSWER_SALT = "department.answer"
BATCH = 200


def answer_token(recipient: NotificationRecipient) -> str:
    return signing.dumps({"r": recipient.pk}, salt=ANSWER_SALT)


@app.task
def notify_area(notification_id: int) -> int:
    """Email every active owner in the notification's area once; safe to run again (only
    owners not yet emailed are emailed). Returns how many were emailed by this run."""
    notification = Notification.objects.select_related("incident").get(pk=notification_id)
    incident = notification.incident
    if notification.is_footage_request:
        # One owner, if the site is still searchable (not paused, not lapsed) when the job runs.
        sites = Site.objects.searchable().filter(pk=notification.site_id)
    else:
        sites = sites_near(
            latitude=incident.latitude,
            longitude=incident.longitude,
            radius_m=notification.radius_m,
        )
    owners = set(sites.values_list("participant_id", flat=True))
    NotificationRecipient.objects.bulk_create(
        (NotificationRecipient(notification=notification, participant_id=pk) for pk in owners),
        ignore_conflicts=True,
    )
    department = connection.tenant
    pending = NotificationRecipient.objects.filter(
        notification=notification, sent_at__isnull=True
    ).select_related("participant__user")
    sent = 0
    mail = get_connection()
    while batch := list(pending[:BATCH]):
        messages = []
        for recipient in batch:
            context = {
                "department": department,
                "branding": getattr(department, "branding", None),
                "notification": notification,
                "incident": incident,
                "answer_url": department.url(f"/answer/{answer_token(recipient)}/"),
            }
            with translation.override(recipient.participant.language):
                subject = render_to_string("department/email/notification_subject.txt", context)
                body = render_to_string("department/email/notification.txt", context)
            messages.append(
                EmailMessage(
                    " ".join(subject.split()), body, None, [recipient.participant.user.email]
                )
            )
        with transaction.atomic():
            mail.send_messages(messages)
            NotificationRecipient.objects.filter(pk__in=[r.pk for r in batch]).update(
                sent_at=timezone.now()
            )
        sent += len(batch)
    return sent


def _program() -> Program:
    """The current department's program settings, read afresh for each job."""
    return Program.objects.get(department__schema_name=connection.schema_name)


@app.task
def registry_import_check(job_id: int) -> None:
    """Check an uploaded import's rows once, with progress (registry.services.import_check_run)."""
    try:
        registry_services.import_check_run(job_id=job_id, program=_program())
    except Exception:
        logger.exception("registry import %s: the check failed", job_id)
        registry_services.import_failed(job_id=job_id)


@app.task
def registry_import_commit(job_id: int) -> int:
    """Write a confirmed import, all or nothing (registry.services.registry_import); returns
    how many sites were written."""
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
