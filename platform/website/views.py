"""The platform site's public pages (no sign-in): what Canvass is, pricing, security,
accessibility, the documentation, and the directory of participating cities."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html")
