"""Settings for the real worker-and-beat test (tests/jobs/test_jobs_worker_and_beat.py): the
project's, with one job (the uploads sweep) fanned out every second, on a queue and Redis keys
of the test's own (JOBS_TEST_QUEUE) so that nothing else on the machine's Redis is touched."""

import os

from canvass.schedule import beat_schedule
from canvass.settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = beat_schedule(every_seconds=1, only=["uploads_sweep"])
CELERY_TASK_DEFAULT_QUEUE = os.environ["JOBS_TEST_QUEUE"]
CELERY_BROKER_TRANSPORT_OPTIONS = {"global_keyprefix": f"{os.environ['JOBS_TEST_QUEUE']}:"}
