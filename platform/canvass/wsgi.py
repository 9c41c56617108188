"""WSGI entry point (gunicorn canvass.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
application = get_wsgi_application()
