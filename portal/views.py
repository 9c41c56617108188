"""Resident-facing pages of a department's portal."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    """The program's front page, in the department's branding and the visitor's language."""
    return render(request, "portal/landing.html")
