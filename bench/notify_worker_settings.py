"""The settings of bench/notify.py's worker process (`--pool prefork`): the project's, with its
emails kept in memory (Django's locmem backend), as the bench's own process keeps them."""

from canvass.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
