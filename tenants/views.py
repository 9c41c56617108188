"""Responses that belong to no department: an unknown host."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.template.loader import render_to_string


def unknown_host(request: HttpRequest) -> HttpResponse:
    """A plain 404 for a host that no department or platform domain claims."""
    return HttpResponseNotFound(
        render_to_string("tenants/unknown_host.html", {"host": request.get_host()})
    )
