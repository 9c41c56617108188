"""What every layer may read from a request: the client's address."""

from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address the request came from."""
    return request.META.get("REMOTE_ADDR") or None
