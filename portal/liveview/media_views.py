"""The media relay's authorisation endpoint (MediaMTX's `authMethod: http` shape): the relay
asks here, on the city's host, before it serves a viewer, accepts a publisher or a bridge's
control connection, and again every second while it does."""

from __future__ import annotations

import hmac
import ipaddress
import json
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal.liveview.media import MediaRefused, media_authorize

# MediaMTX's request body is small; anything much larger is not the relay's.
BODY_MAX = 16 * 1024


def _refused(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""


@csrf_exempt
@require_POST
def media_auth(request: HttpRequest) -> JsonResponse:
    """POST /media/auth?key=<MEDIA_AUTH_KEY> with MediaMTX's JSON body: 200 with what the relay
    needs, 401 (bad key, credential or token) or 403 (not allowed now) with {"error": ...}."""
    key = settings.MEDIA_AUTH_KEY
    given = request.GET.get("key", "")
    if not key or not hmac.compare_digest(given.encode(), key.encode()):
        return _refused(401, "wrong relay key")
    if len(request.body) > BODY_MAX:
        return _refused(400, "request too large")
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _refused(400, "body is not JSON")
    if not isinstance(body, dict):
        return _refused(400, "body is not a JSON object")
    action = _text(body, "action")
    password = _text(body, "password")
    token = _text(body, "token") or password
    if not token:
        token = next(iter(parse_qs(_text(body, "query")).get("token", [])), "")
    try:
        answer = media_authorize(
            action=action,
            path=_text(body, "path"),
            token=token,
            credential=password or _text(body, "token"),
            ip_address=_address(_text(body, "ip")),
        )
    except MediaRefused as refused:
        return _refused(refused.status, refused.message)
    return JsonResponse(answer)


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None
