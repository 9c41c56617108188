"""Live view's periodic jobs, one department at a time in its own schema (Celery beat fans them
out: canvass.schedule). Each `*_run` function does one department's turn and returns its report
line; the scheduled task and the management command both call it."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.utils import timezone

from portal.liveview.devices import devices_check_offline
from portal.liveview.endings import grants_of_signed_out_end
from portal.liveview.services import grants_expire
from tenants.models import current_department

logger = logging.getLogger(__name__)


def sweep_run(now: datetime) -> str:
    """End grants past their expiry and those of staff signed out (rows locked and re-read:
    two runs at once end each grant once)."""
    expired = grants_expire(now=now)
    signed_out = grants_of_signed_out_end()
    return f"{expired} expired grants ended, {signed_out} of staff signed out"


def devices_check_run(now: datetime) -> str:
    """Devices silent for longer than the city's threshold go offline (once per outage)."""
    return f"{devices_check_offline(now=now)} device(s) went offline"


def _logged(job: str, line: str) -> str:
    logger.info("%s %s: %s", job, current_department().schema_name, line)
    return line


@shared_task(scheduled_job=True)
def liveview_sweep() -> str:
    return _logged("liveview_sweep", sweep_run(timezone.now()))


@shared_task(scheduled_job=True)
def liveview_devices_check() -> str:
    return _logged("liveview_devices_check", devices_check_run(timezone.now()))
