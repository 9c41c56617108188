"""The platform site: a public home page and the vendor staff's console."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from console.access import vendor_can
from console.audit import platform_audit_record
from console.forms import DepartmentForm
from console.models import PlatformAuditEntry
from console.selectors import department_counts
from tenants.models import Department
from tenants.services import department_provision
from tenants.storage import STORAGE_RETRY_AFTER, StorageUnavailable

View = Callable[..., HttpResponse]


def vendor_staff_required(view: View) -> View:
    """Vendor staff with a second factor set up (they can create departments and will reach
    cities' data); anonymous visitors go to sign-in, other accounts get 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise PermissionDenied
        if not is_mfa_enabled(request.user):
            messages.info(request, "Set up an authenticator app before using the console.")
            return redirect("mfa_activate_totp")
        return view(request, *args, **kwargs)

    return wrapper


def vendor_capability_required(capability: str) -> Callable[[View], View]:
    """Vendor staff (vendor_staff_required) whose role has the capability (console.access:
    the one rule); other vendor staff get 403."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if not vendor_can(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return vendor_staff_required(wrapper)

    return decorator


@require_safe
@vendor_staff_required
def departments(request: HttpRequest) -> HttpResponse:
    rows = list(
        Department.objects.cities()
        .select_related("branding", "program")
        .prefetch_related("domains")
        .order_by("name")
    )
    counts = department_counts(rows)
    listed = [(department, counts[department.pk]) for department in rows]
    return render(request, "console/departments.html", {"departments": listed})


@require_http_methods(["GET", "HEAD", "POST"])
@vendor_staff_required
def department_new(request: HttpRequest) -> HttpResponse:
    """Onboard a department: its schema, portal, branding and first administrator, invited."""
    form = DepartmentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = department_provision(**form.cleaned_data)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        except StorageUnavailable as failure:
            # The logo could not be stored: nothing was created, say so (never a 500).
            form.add_error("logo", failure.message)
            context = {"form": form, "base_domain": settings.CANVASS_BASE_DOMAIN}
            response = render(request, "console/department_new.html", context, status=503)
            response["Retry-After"] = str(STORAGE_RETRY_AFTER)
            return response
        else:
            # After the provisioning transaction (its own): the department exists now.
            platform_audit_record(
                actor=request.user,
                action=PlatformAuditEntry.Action.DEPARTMENT_CREATE,
                department=result.department,
                detail={
                    "domain": result.domain.domain,
                    "administrator": result.administrator.email,
                },
            )
            messages.success(
                request,
                f"{result.department.name} is live at {result.domain.domain}. "
                f"{result.administrator.email} was invited to choose a password.",
            )
            return redirect("console:departments")
    status = 400 if form.is_bound else 200
    context = {"form": form, "base_domain": settings.CANVASS_BASE_DOMAIN}
    return render(request, "console/department_new.html", context, status=status)
