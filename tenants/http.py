"""What every layer may read from a request: the department it was routed to (a typed request
class for it) and the client's address."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase

if TYPE_CHECKING:
    from tenants.models import Department
    from tenants.storage import PrivateFile


class DepartmentRequest(HttpRequest):
    """A request after host routing: tenants.middleware.DepartmentMiddleware sets `tenant`
    (the department whose domain it came to; the platform's row on the platform site)."""

    tenant: Department


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from, read through settings.TRUSTED_PROXY_COUNT proxies.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For,
    so the client is the entry that many places from the right; whatever a client writes there
    itself sits further left and is never read. With no trusted proxy the header is ignored."""
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if not forwarded:
        return remote
    # Fewer entries than proxies: the request skipped one; the furthest recorded hop is the
    # best there is.
    return _address(forwarded[-count] if len(forwarded) >= count else forwarded[0]) or remote


def _address(value: str) -> str | None:
    """A valid IPv4/IPv6 address (a port or brackets some proxies add removed), else None:
    audit entries store it in an address column."""
    value = value.strip()
    candidates = [value]
    if value.startswith("["):  # [2001:db8::1]:443
        candidates.append(value[1:].split("]", 1)[0])
    elif value.count(":") == 1:  # 203.0.113.7:51234
        candidates.append(value.split(":", 1)[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def private_file_response(handout: PrivateFile) -> HttpResponseBase:
    """The answer that hands a private file over (tenants.storage.private_file_open, after the
    caller recorded it): a redirect to its signed URL or the file streamed; always an
    attachment (inline only when the caller asked, for a preview: then sandboxed, so that the
    file can run nothing on the city's origin even when opened alone), never sniffed, never
    cached."""
    response: HttpResponseBase
    if handout.url is not None:
        response = HttpResponseRedirect(handout.url)
    else:
        response = FileResponse(
            handout.stream,
            as_attachment=not handout.inline,
            filename=handout.download_name,
            content_type=handout.content_type,
        )
    if handout.inline:
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response
