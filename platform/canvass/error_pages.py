"""The 403, 404 and 500 pages (handler403 and handler404 of both urlconfs; the 500 through
canvass.outage.server_error, which answers the outage page when the database is what failed):
the city's portal layout on a department's host (its name, logo and colors) and the public
site's on the platform's, in the user's language, with a way back and a link to the home page.

The branded page runs the context processors (the department's branding, the signed-in user),
which may need the database; if anything in that rendering fails, the plain page is rendered by
an engine of this module's own, without context processors or database (as canvass.outage
does), so a visitor never gets a blank page."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import Context, Engine
from django.utils import translation
from django.utils.translation import gettext

from canvass.outage import user_language

logger = logging.getLogger(__name__)

_plain_engine = Engine(
    dirs=[str(Path(__file__).resolve().parents[2] / "tenants" / "templates")],
    libraries={"i18n": "django.templatetags.i18n"},
    debug=False,
)


def _back_url(request: HttpRequest) -> str:
    """The page the visitor came from, when it is on this same host; '' otherwise."""
    referer = request.headers.get("Referer", "")
    if not referer:
        return ""
    parts = urlsplit(referer)
    if parts.netloc and parts.netloc != request.get_host():
        return ""
    if parts.path == request.path:
        return ""
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _base_template(request: HttpRequest) -> str:
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_platform:
        return "website/base.html"
    return "portal/base.html"


def _error_page(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    context = {
        "error_base_template": _base_template(request),
        "error_status": status,
        "error_title": title,
        "error_text": text,
        "back_url": _back_url(request),
    }
    try:
        return render(request, "errors/page.html", context, status=status)
    except Exception:
        logger.exception("The branded %s page failed; answering the plain one", status)
        with translation.override(user_language(request)):
            body = _plain_engine.get_template(f"{status}.html").render(Context({}))
        return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: the page is not for this visitor."""
    return _error_page(
        request,
        403,
        gettext("Not allowed"),
        gettext("You do not have access to this page."),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: nothing at this address."""
    return _error_page(
        request,
        404,
        gettext("Page not found"),
        gettext("There is no page at this address."),
    )


def server_error_page(request: HttpRequest) -> HttpResponse:
    """The 500 page, called by handler500 (canvass.outage.server_error) for any failure other
    than the database's: the branded page if it can be rendered, the plain one otherwise."""
    return _error_page(
        request,
        500,
        gettext("Something went wrong"),
        gettext(
            "Something went wrong on our side. Nothing you entered was saved halfway; "
            "please try again in a moment."
        ),
    )
