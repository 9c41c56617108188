"""The outage page: what every request answers while PostgreSQL does not (issue 16).

Django turns an exception raised anywhere in a request (a view, a middleware, the tenant
middleware's host lookup before any language is chosen) into a response at the middleware layer
it escaped from, through the urlconf's handler500, called inside the `except` block
(django.core.handlers.exception.response_for_exception). `server_error` is that handler for both
urlconfs: for a database that does not answer (django.db's OperationalError or InterfaceError,
the exception being handled or any exception it was raised from) it answers 503 with
`Retry-After` and a plain page in the user's language, or JSON {"error": ...} to a JSON client;
any other error gets the branded 500 page (canvass.error_pages; plain if that fails). The
outage page does not touch the database: the template is rendered by an engine of this module's
own, without context processors, and the language comes from the request's cookie or
Accept-Language header alone.

The outage is logged once per request at WARNING with the request id (the log context adds the
department when it is known) instead of Django's ERROR with a traceback, and counted in
canvass_database_outage_responses_total for /metrics."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import Context, Engine
from django.utils import translation
from django.utils.translation import gettext
from prometheus_client import Counter

from canvass.observability.logs import request_id_var

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
OUTAGE_ERRORS = (OperationalError, InterfaceError)
JSON_PATH_PREFIXES = ("/api/", "/media/auth")

OUTAGE_RESPONSES = Counter(
    "canvass_database_outage_responses",
    "Requests answered with the outage page (503) because the database did not answer",
    ["format"],
)

# Its own engine: the project's template loaders ask the connection which city's templates to
# use, and no context processor (the user, the messages, the department) may run.
_engine = Engine(
    dirs=[str(Path(__file__).parent / "templates")],
    libraries={"i18n": "django.templatetags.i18n"},
    debug=False,
)


def database_outage(error: BaseException | None) -> bool:
    """Whether `error`, or an exception it was raised from or during, is the database not
    answering (a refused or dropped connection, a server shutting down)."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, OUTAGE_ERRORS):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def user_language(request: HttpRequest) -> str:
    """The language cookie or Accept-Language, among settings.LANGUAGES; no session, no
    department (both live in the database)."""
    return translation.get_language_from_request(request)


def wants_json(request: HttpRequest) -> bool:
    """A JSON client: the device API and the relay's authorisation, or a request that asks for
    JSON and not for a page (the portal's fetch() calls)."""
    if request.path.startswith(JSON_PATH_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def outage_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the plain page, or {"error": ...} to a JSON client. Never cached."""
    language = user_language(request)
    as_json = wants_json(request)
    with translation.override(language):
        if as_json:
            response: HttpResponse = JsonResponse(
                {"error": gettext("We can't reach our records right now, try again in a moment.")},
                status=503,
            )
        else:
            # django-csp's lazy nonce (its truth value only says whether it was made yet).
            nonce = getattr(request, "csp_nonce", None)
            context = {"language": language, "nonce": "" if nonce is None else str(nonce)}
            body = _engine.get_template("canvass/outage.html").render(Context(context))
            response = HttpResponse(body, status=503, content_type="text/html; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response["Content-Language"] = language
    # Logged here, at WARNING; Django's own ERROR line with the traceback is skipped.
    response._has_been_logged = True  # type: ignore[attr-defined]
    OUTAGE_RESPONSES.labels(format="json" if as_json else "html").inc()
    logger.warning(
        "Database unavailable: %s %s answered 503 (request %s)",
        request.method,
        request.path,
        request_id_var.get() or "-",
    )
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500 of both urlconfs, called while Django handles the exception (so
    sys.exc_info() names it): the outage page when the database is what failed, the branded 500
    page otherwise (canvass.error_pages.server_error_page)."""
    if database_outage(sys.exc_info()[1]):
        return outage_response(request)
    from canvass.error_pages import server_error_page

    return server_error_page(request)
