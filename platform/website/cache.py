"""The platform site's pages are the same for every visitor in a language: each is rendered
once per language and kept for a few minutes in this process's memory, and served from there
to visitors who carry no session and no pending message (a signed-in vendor, say, always gets
a fresh page). In memory rather than in Redis: a release restarts the processes, so no page
outlives the templates and static files it was rendered with.

The pages hold no CSRF token (the language switch is a GET form, website.views.language), so a
kept page never carries another visitor's token."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

View = Callable[..., HttpResponse]

MESSAGES_COOKIE = "messages"  # django.contrib.messages' CookieStorage
_pages: dict[tuple[str, str], tuple[float, bytes, str]] = {}
_lock = threading.Lock()


def pages_clear() -> None:
    with _lock:
        _pages.clear()


def _personal(request: HttpRequest) -> bool:
    return bool(
        request.META.get("QUERY_STRING")
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or MESSAGES_COOKIE in request.COOKIES
    )


def public_page(seconds_setting: str) -> Callable[[View], View]:
    """Keep the view's 200 answers for settings.<seconds_setting> seconds, by path and
    language. Query strings are not kept (nothing here reads them; they would only fill the
    memory)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if _personal(request):
                return view(request, *args, **kwargs)
            key = (request.path, get_language() or settings.LANGUAGE_CODE)
            now = time.monotonic()
            kept = _pages.get(key)
            if kept is not None and kept[0] > now:
                return HttpResponse(kept[1], content_type=kept[2])
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.cookies and not response.streaming:
                expires = now + getattr(settings, seconds_setting)
                with _lock:
                    _pages[key] = (expires, response.content, response["Content-Type"])
            return response

        return wrapper

    return decorator
