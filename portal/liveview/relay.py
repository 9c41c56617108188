"""Where a city's pages and bridges reach the media relay: settings.MEDIA_RELAY_URL with {host}
the city's hostname ("http://{host}:8890" in the demo); None when live view is off here."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponseBase
from django.http.request import split_domain_port


def relay_url(host: str) -> str | None:
    """The relay's base URL for this city (no trailing slash), or None when none is set."""
    template = settings.MEDIA_RELAY_URL.strip()
    if not template:
        return None
    # "concord.localhost:8000" (request.get_host() keeps the port) -> "concord.localhost".
    return template.replace("{host}", split_domain_port(host)[0]).rstrip("/")


def relay_origin(host: str) -> str | None:
    """The relay's origin, for the page's Content-Security-Policy connect-src."""
    url = relay_url(host)
    if url is None:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allow_relay(response: HttpResponseBase, host: str) -> HttpResponseBase:
    """Let the page that plays live video connect to the relay (django-csp's per-response
    update of connect-src; the relay's origin varies with the city, so settings cannot list it)."""
    origin = relay_origin(host)
    if origin is not None:
        # The attribute django-csp's own @csp_update decorator sets (it has no typed setter).
        setattr(response, "_csp_update", {"connect-src": [origin]})  # noqa: B010
    return response
