"""The media relay's authorisation endpoint (MediaMTX's `authMethod: http` shape): the relay
asks here, on the city's host, before it serves a viewer, accepts a publisher or a bridge's
control connection, and again every second while it does.

Two doors, one answer (`media_answer`): the Django view (the development server, the tests'
client) and, under gunicorn, `media_auth_wsgi`, which canvass.wsgi hands `POST /media/auth`
before Django's middleware. The relay asks once a second per viewer and per publisher; through
the middleware (sessions, locale, authentication, the host's department read from the database)
a request that only refused a key already took 4.3 ms, over the 5 ms a check may take in all
(docs/benchmarks.md). The lean door reads the host's department from a per-process cache of a
few seconds and nothing else."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs
from wsgiref.types import StartResponse

from django.conf import settings
from django.db import DatabaseError, connection
from django.db import close_old_connections as connections_tidy
from django.http import HttpRequest, JsonResponse
from django.http.request import split_domain_port
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal.liveview.media import MediaRefused, media_authorize
from tenants.db import tenant_connection
from tenants.middleware import department_for_host

logger = logging.getLogger(__name__)

# MediaMTX's request body is small; anything much larger is not the relay's.
BODY_MAX = 16 * 1024


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""


def media_answer(*, key: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """The answer to one authorisation request in the current city's schema: 200 with what the
    relay needs, 401 (bad key, credential or token), 403 (not allowed now) or 400, with
    {"error": ...}."""
    expected = settings.MEDIA_AUTH_KEY
    if not expected or not hmac.compare_digest(key.encode(), expected.encode()):
        return 401, {"error": "wrong relay key"}
    if len(body) > BODY_MAX:
        return 400, {"error": "request too large"}
    try:
        fields = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return 400, {"error": "body is not JSON"}
    if not isinstance(fields, dict):
        return 400, {"error": "body is not a JSON object"}
    password = _text(fields, "password")
    token = _text(fields, "token") or password
    if not token:
        token = next(iter(parse_qs(_text(fields, "query")).get("token", [])), "")
    try:
        return 200, media_authorize(
            action=_text(fields, "action"),
            path=_text(fields, "path"),
            token=token,
            credential=password or _text(fields, "token"),
            ip_address=_address(_text(fields, "ip")),
        )
    except MediaRefused as refused:
        return refused.status, {"error": refused.message}


@csrf_exempt
@require_POST
def media_auth(request: HttpRequest) -> JsonResponse:
    """POST /media/auth?key=<MEDIA_AUTH_KEY> with MediaMTX's JSON body, through Django."""
    status, answer = media_answer(key=request.GET.get("key", ""), body=request.body)
    return JsonResponse(answer, status=status)


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
REASONS |= {404: "Not Found", 503: "Service Unavailable"}


def media_auth_wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """POST /media/auth before Django's middleware (canvass.wsgi): the same answer, the city
    from the Host header through department_for_host. A suspended or unknown city is refused;
    a database that does not answer is a 503 (the relay then refuses, failing closed)."""
    in_request = not connection.in_atomic_block
    if in_request:  # as Django's request_started does: drop a connection past its age or broken
        connections_tidy()
    try:
        status, answer = _lean_answer(environ)
    except DatabaseError:
        logger.exception("media authorisation: the database did not answer")
        status, answer = 503, {"error": "database unavailable"}
    finally:
        if in_request:
            connections_tidy()
    payload = json.dumps(answer).encode()
    start_response(
        f"{status} {REASONS.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def _lean_answer(environ: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    hostname, _port = split_domain_port(str(environ.get("HTTP_HOST") or ""))
    department = department_for_host(hostname) if hostname else None
    if department is None:
        return 404, {"error": "no department at this host"}
    if not department.is_serving:
        return 403, {"error": "department suspended"}
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > BODY_MAX:
        return 400, {"error": "request too large"}
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    key = next(iter(parse_qs(str(environ.get("QUERY_STRING", ""))).get("key", [])), "")
    if tenant_connection.schema_name == department.schema_name:
        # The city of this connection's previous request: its search path stands (django-tenants
        # forgets it when the connection closes or rolls back), so no SET is sent again; only
        # the department's settings are the fresher ones.
        tenant_connection.tenant = department
    else:
        tenant_connection.set_tenant(department)
    return media_answer(key=key, body=body)


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
