"""The transparency page's scheduled job, one department at a time in its own schema (Celery
beat fans it out: canvass.schedule): the monthly figures recomputed from the records."""

from __future__ import annotations

import logging

from celery import shared_task
from django.utils import timezone

from portal.transparency.services import figures_refresh
from tenants.models import current_department

logger = logging.getLogger(__name__)


@shared_task(scheduled_job=True)
def transparency_refresh() -> str:
    department = current_department()
    months = figures_refresh(department=department, now=timezone.now())
    line = f"{months} months computed"
    logger.info("transparency_refresh %s: %s", department.schema_name, line)
    return line
