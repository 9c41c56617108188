"""The vendor console's department exports: request one, follow it, download it (each request
and download recorded by console.exports in the platform audit log)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_safe

from console import exports, tasks
from console.access import vendor_can
from console.models import DepartmentExport, VendorCapability
from console.views import vendor_staff_required
from tenants.http import private_file_response
from tenants.models import Department
from tenants.storage import StorageUnavailable

View = Callable[..., HttpResponseBase]


def export_capability_required(view: View) -> View:
    """Vendor staff (with a second factor) whose role may export a department; others 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        if not vendor_can(request.user, VendorCapability.DEPARTMENTS_EXPORT):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    # Signed in, vendor staff, second factor first (console.views.vendor_staff_required).
    return cast(View, vendor_staff_required(cast(Callable[..., HttpResponse], wrapper)))


@require_http_methods(["GET", "HEAD", "POST"])
@export_capability_required
def department_exports(request: HttpRequest, department_id: int) -> HttpResponseBase:
    """The department's archives and their progress; POST asks for a new one (a second submit
    while one is being built starts nothing)."""
    department = get_object_or_404(Department.objects.cities(), pk=department_id)
    if request.method == "POST":
        # Read the form first: a body that cannot be parsed is refused before anything is asked.
        back = request.POST.get("next", "")
        export, created = exports.department_export_request(
            actor=request.user, department=department
        )
        if created:
            tasks.department_export_build.delay(export.pk)
            messages.success(
                request,
                f"The export of {department.name} was requested; it is built in the background.",
            )
        else:
            messages.info(
                request,
                f"An export of {department.name} is already being built (requested "
                f"{export.created_at:%Y-%m-%d %H:%M} UTC); no second one was started.",
            )
        if back and url_has_allowed_host_and_scheme(
            back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return HttpResponseRedirect(back)
        return redirect("console:department_exports", department_id=department.pk)
    return render(request, "console/department_exports.html", {"department": department})


@require_safe
@export_capability_required
def department_export_download(
    request: HttpRequest, department_id: int, export_id: int
) -> HttpResponseBase:
    """A ready archive: recorded, then a one-minute signed URL (S3) or streamed; never cached."""
    export = get_object_or_404(
        DepartmentExport,
        pk=export_id,
        department_id=department_id,
        status=DepartmentExport.Status.READY,
    )
    try:
        handout = exports.department_export_open(actor=request.user, export=export)
    except StorageUnavailable as failure:
        # The storage does not answer or lost the archive: said on the exports page (the
        # download is in the platform audit log already, recorded first).
        messages.error(request, failure.message)
        return redirect("console:department_exports", department_id=department_id)
    return private_file_response(handout)
