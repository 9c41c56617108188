"""The platform site: a public home page and the vendor staff's console."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from tenants.models import Department

View = Callable[..., HttpResponse]


def vendor_staff_required(view: View) -> View:
    """Anonymous visitors go to sign-in; signed-in accounts that are not vendor staff get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html")


@require_safe
@vendor_staff_required
def departments(request: HttpRequest) -> HttpResponse:
    rows = (
        Department.objects.cities()
        .select_related("branding", "program")
        .prefetch_related("domains")
        .order_by("name")
    )
    return render(request, "console/departments.html", {"departments": rows})
