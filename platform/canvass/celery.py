"""The Celery application: background jobs that know which department's schema they serve.

tenant-schemas-celery records the schema of the request that queued a task and switches the
worker's connection to it. With no CELERY_BROKER_URL (the demo), tasks run at once, in-process.
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

app = CeleryApp("canvass")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
