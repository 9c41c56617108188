"""WSGI entry point (gunicorn canvass.wsgi).

The media relay's authorisation (`POST /media/auth`, asked every second for every viewer and
publisher) is answered before Django's middleware, by portal.liveview.media_views; everything
else goes through Django."""

import os
from collections.abc import Iterable
from typing import Any
from wsgiref.types import StartResponse

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")
django_application = get_wsgi_application()

from portal.liveview.media_views import media_auth_wsgi  # noqa: E402 (after setup)


def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/media/auth" and environ.get("REQUEST_METHOD") == "POST":
        return media_auth_wsgi(environ, start_response)
    return django_application(environ, start_response)
