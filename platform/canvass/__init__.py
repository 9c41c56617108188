"""The Canvass Django project: settings, URL configurations and the WSGI/ASGI entry points."""

from canvass.celery import app as celery_app

__all__ = ["celery_app"]
