"""Settings for Celery beat in tests/faults/test_redis_down.py: the project's, with the outbox
job (tenants.tasks.outbox_dispatch) due every second instead of every minute, so that the test
sees beat catch up once Redis is back without waiting for a minute to turn."""

from canvass.schedule import beat_schedule
from canvass.settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = beat_schedule(every_seconds=1, only=["outbox_dispatch"])
