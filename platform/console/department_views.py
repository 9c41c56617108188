"""The vendor console's department page and its lifecycle actions (console.lifecycle): edit,
addresses, suspend, reactivate, delete. Seeing needs DEPARTMENTS_VIEW, changing
DEPARTMENTS_MANAGE, deleting DEPARTMENTS_DELETE (console.access.vendor_can)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from console import lifecycle
from console.access import vendor_can
from console.forms import DeleteForm, DepartmentEditForm, DomainAddForm, SuspendForm
from console.models import VendorCapability
from console.selectors import department_audit_entries, department_facts
from console.views import vendor_staff_required
from tenants.models import Department
from tenants.storage import STORAGE_RETRY_AFTER, StorageUnavailable

View = Callable[..., HttpResponse]


class VendorRequest(HttpRequest):
    """A console request from signed-in vendor staff (vendor_capability_required checked it)."""

    user: User


def vendor_capability_required(capability: str) -> Callable[[View], View]:
    """Vendor staff with a second factor (vendor_staff_required) whose role has the capability;
    403 otherwise. The view gets the department of the URL, or a 404 for one that is gone."""

    def decorator(view: View) -> View:
        @vendor_staff_required
        @wraps(view)
        def wrapper(request: HttpRequest, department_id: int, **kwargs: Any) -> HttpResponse:
            if not vendor_can(request.user, capability):
                raise PermissionDenied
            department = (
                Department.objects.cities()
                .select_related("branding", "program")
                .filter(pk=department_id)
                .first()
            )
            if department is None:
                raise Http404("No such department (it may have been deleted).")
            return view(cast(VendorRequest, request), department, **kwargs)

        return wrapper

    return decorator


def _page(
    request: VendorRequest, department: Department, status: int = 200, **forms: Form
) -> HttpResponse:
    if not Department.objects.filter(pk=department.pk).exists():
        # Deleted meanwhile (a second submit of the delete form that waited for the first).
        raise Http404("No such department (it may have been deleted).")
    user = request.user
    context: dict[str, Any] = {
        "department": department,
        "domains": department.domains.order_by("-is_primary", "domain"),
        "facts": department_facts(department),
        "entries": department_audit_entries(department),
        "can_manage": vendor_can(user, VendorCapability.DEPARTMENTS_MANAGE),
        "can_delete": vendor_can(user, VendorCapability.DEPARTMENTS_DELETE),
        "domain_form": forms.get("domain_form") or DomainAddForm(),
        "suspend_form": forms.get("suspend_form") or SuspendForm(),
        "delete_form": forms.get("delete_form") or DeleteForm(),
        "subdomain": department.schema_name.replace("_", "-"),
    }
    return render(request, "console/department.html", context, status=status)


@require_safe
@vendor_capability_required(VendorCapability.DEPARTMENTS_VIEW)
def department(request: VendorRequest, department: Department) -> HttpResponse:
    return _page(request, department)


def _field_errors(form: Form, error: ValidationError) -> None:
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


@require_http_methods(["GET", "HEAD", "POST"])
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def department_edit(request: VendorRequest, department: Department) -> HttpResponse:
    form = DepartmentEditForm(
        request.POST or None,
        request.FILES or None,
        initial=DepartmentEditForm.initial_for(department),
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = lifecycle.department_edit(
                actor=request.user,
                department=department,
                changes=form.changes(),
                languages=form.cleaned_data["languages"],
                terms_text=form.cleaned_data["terms_text"],
                logo=form.cleaned_data["logo"],
                logo_clear=form.cleaned_data["logo_clear"],
            )
        except ValidationError as error:
            _field_errors(form, error)
        except lifecycle.LifecycleRefused as refused:
            form.add_error(None, refused.message)
        except StorageUnavailable as failure:
            # The logo's storage is down or full: nothing was saved, say so (never a 500).
            form.add_error("logo", failure.message)
            response = render(
                request,
                "console/department_edit.html",
                {"form": form, "department": department},
                status=503,
            )
            response["Retry-After"] = str(STORAGE_RETRY_AFTER)
            return response
        else:
            if changed:
                messages.success(request, f"{department.name}: {', '.join(changed)} saved.")
            else:
                messages.info(request, "Nothing had changed; nothing was saved.")
            return redirect("console:department", department_id=department.pk)
    status = 400 if form.is_bound else 200
    return render(
        request,
        "console/department_edit.html",
        {"form": form, "department": department},
        status=status,
    )


def _refused(request: VendorRequest, department: Department, message: str) -> HttpResponse:
    messages.error(request, message)
    return _page(request, department, status=400)


@require_POST
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def domain_add(request: VendorRequest, department: Department) -> HttpResponse:
    form = DomainAddForm(request.POST)
    if form.is_valid():
        try:
            domain = lifecycle.domain_add(
                actor=request.user,
                department=department,
                hostname=form.cleaned_data["hostname"],
                primary=form.cleaned_data["primary"],
            )
        except ValidationError as error:
            _field_errors(form, error)
        except lifecycle.LifecycleRefused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, f"{domain.domain} now serves {department.name}.")
            return redirect("console:department", department_id=department.pk)
    return _page(request, department, status=400, domain_form=form)


@require_POST
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def domain_remove(request: VendorRequest, department: Department, domain_id: int) -> HttpResponse:
    try:
        hostname = lifecycle.domain_remove(
            actor=request.user, department=department, domain_id=domain_id
        )
    except lifecycle.LifecycleRefused as refused:
        return _refused(request, department, refused.message)
    messages.success(request, f"{hostname} no longer serves {department.name}.")
    return redirect("console:department", department_id=department.pk)


@require_POST
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def domain_primary(request: VendorRequest, department: Department, domain_id: int) -> HttpResponse:
    try:
        domain = lifecycle.domain_primary_set(
            actor=request.user, department=department, domain_id=domain_id
        )
    except lifecycle.LifecycleRefused as refused:
        return _refused(request, department, refused.message)
    messages.success(request, f"{domain.domain} is now the primary address.")
    return redirect("console:department", department_id=department.pk)


@require_POST
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def department_suspend(request: VendorRequest, department: Department) -> HttpResponse:
    form = SuspendForm(request.POST)
    if not form.is_valid():
        return _page(request, department, status=400, suspend_form=form)
    try:
        lifecycle.department_suspend(
            actor=request.user, department=department, reason=form.cleaned_data["reason"]
        )
    except lifecycle.LifecycleRefused as refused:
        return _refused(request, department, refused.message)
    messages.success(
        request, f"{department.name} is suspended: its portal is closed, its data kept."
    )
    return redirect("console:department", department_id=department.pk)


@require_POST
@vendor_capability_required(VendorCapability.DEPARTMENTS_MANAGE)
def department_reactivate(request: VendorRequest, department: Department) -> HttpResponse:
    try:
        lifecycle.department_reactivate(actor=request.user, department=department)
    except lifecycle.LifecycleRefused as refused:
        return _refused(request, department, refused.message)
    messages.success(request, f"{department.name} is active again.")
    return redirect("console:department", department_id=department.pk)


@require_POST
@vendor_capability_required(VendorCapability.DEPARTMENTS_DELETE)
def department_delete(request: VendorRequest, department: Department) -> HttpResponse:
    form = DeleteForm(request.POST)
    form.is_valid()  # one optional text field: always valid
    try:
        deleted = lifecycle.department_delete(
            actor=request.user,
            department=department,
            confirmation=form.cleaned_data.get("confirmation", ""),
        )
    except lifecycle.LifecycleRefused as refused:
        form.add_error("confirmation", refused.message)
        return _page(request, department, status=400, delete_form=form)
    files = "some of its files could not be removed (see the log)"
    if deleted.files >= 0:
        files = f"{deleted.files} file(s) removed"
    messages.success(
        request,
        f"{deleted.name} is deleted: its schema {deleted.schema_name} dropped, {files}. "
        "The platform audit log keeps the record.",
    )
    return redirect("console:departments")
