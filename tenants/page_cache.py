"""Pages that are the same for every anonymous visitor in a language (the platform site's pages,
a city's landing page): each is rendered once per host's department, path and language and kept
for a few seconds in this process's memory, and served from there to visitors who carry no
session, no pending message and no query string (a signed-in resident, say, always gets a fresh
page). In memory rather than in Redis: a release restarts the processes, so no page outlives the
templates and static files it was rendered with.

A kept page carries no CSRF token (the language switches are GET forms, tenants.views.
language_switch) and no other visitor's CSP nonce: the nonce the page was rendered with is kept
as a mark and each visitor's own is written in its place, so the branding's inline style still
runs under the policy. A change to any department, domain, branding or program, or to the device
plans and the cities' offers of them (billing.apps), moves the host cache's generation
(tenants.middleware): every kept page is forgotten at once in the process that made the change
and within a second in the others (the version stamp in Redis); anything else is at most the
page's own seconds old."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from tenants.middleware import hosts_generation

View = Callable[..., HttpResponse]

MESSAGES_COOKIE = "messages"  # django.contrib.messages' CookieStorage
NONCE_MARK = b"__canvass-csp-nonce__"
_pages: dict[tuple[str, str, str], tuple[float, bytes, str]] = {}
_state: dict[str, int] = {"generation": -1}
_lock = threading.Lock()


def pages_clear() -> None:
    with _lock:
        _pages.clear()


def _personal(request: HttpRequest) -> bool:
    return bool(
        request.method not in ("GET", "HEAD")
        or request.META.get("QUERY_STRING")
        or settings.SESSION_COOKIE_NAME in request.COOKIES
        or MESSAGES_COOKIE in request.COOKIES
    )


def _kept(key: tuple[str, str, str], now: float) -> tuple[float, bytes, str] | None:
    generation = hosts_generation()
    if generation != _state["generation"]:
        with _lock:
            _pages.clear()
            _state["generation"] = generation
        return None
    kept = _pages.get(key)
    return kept if kept is not None and kept[0] > now else None


def public_page(seconds_setting: str) -> Callable[[View], View]:
    """Keep the view's 200 answers for settings.<seconds_setting> seconds, by the host's
    department, path and language. Query strings are not kept (nothing here reads them; they
    would only fill the memory)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if _personal(request):
                return view(request, *args, **kwargs)
            tenant = getattr(request, "tenant", None)
            schema = tenant.schema_name if tenant is not None else ""
            key = (schema, request.path, get_language() or settings.LANGUAGE_CODE)
            now = time.monotonic()
            kept = _kept(key, now)
            if kept is not None:
                body = kept[1]
                if NONCE_MARK in body:
                    fresh = str(request.csp_nonce)  # type: ignore[attr-defined]
                    body = body.replace(NONCE_MARK, fresh.encode())
                return HttpResponse(body, content_type=kept[2])
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.cookies and not response.streaming:
                body = response.content
                used = getattr(request, "_csp_nonce", None)
                if isinstance(used, str) and used:
                    body = body.replace(used.encode(), NONCE_MARK)
                expires = now + getattr(settings, seconds_setting)
                with _lock:
                    _pages[key] = (expires, body, response["Content-Type"])
            return response

        return wrapper

    return decorator
