"""The vendor console's support sessions (a department's support panel and page), vendor staff
roles and the platform audit log. Views translate HTTP to console.support and
console.vendor_staff."""

from __future__ import annotations

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from console import support
from console.access import vendor_role
from console.models import PlatformAuditEntry, VendorCapability, VendorRole
from console.support_forms import PlatformAuditFilterForm, SupportRequestForm, VendorRoleForm
from console.vendor_staff import RoleChangeRefused, vendor_role_set
from console.views import vendor_capability_required
from tenants.models import Department

PAGE_SIZE = 50


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@require_http_methods(["GET", "HEAD", "POST"])
@vendor_capability_required(VendorCapability.SUPPORT_SESSIONS)
def department_support(request: HttpRequest, department_id: int) -> HttpResponse:
    """A department's support sessions, and the form that requests one."""
    department = get_object_or_404(Department.objects.cities(), pk=department_id)
    form = SupportRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = support.support_request(
                vendor=_user(request),
                department=department,
                reason=form.cleaned_data["reason"] or "",
                minutes=form.cleaned_data["minutes"],
                write=form.cleaned_data["write"],
            )
        except support.SupportRefused as refused:
            form.add_error(refused.field, refused.message)
        else:
            messages.success(
                request,
                f"Support session {session.pk} is open until "
                f"{timezone.localtime(session.expires_at):%H:%M}. Enter the console when ready.",
            )
            return redirect("console:department_support", department_id=department.pk)
    status = 400 if form.is_bound else 200
    context = {"department": department, "support_form": form}
    return render(request, "console/department_support.html", context, status=status)


def _session_action(request: HttpRequest, session_id: int, act: str) -> HttpResponse:
    vendor = _user(request)
    session = get_object_or_404(support.SupportSession, pk=session_id)
    back = redirect("console:department_support", department_id=session.department_id)
    try:
        if act == "enter":
            return redirect(support.support_entry_link(vendor=vendor, session_id=session_id))
        if act == "write":
            support.support_write_request(vendor=vendor, session_id=session_id)
            messages.success(request, "The department's administrators can now approve writes.")
        else:
            support.support_end_by_vendor(vendor=vendor, session_id=session_id)
            messages.success(request, f"Support session {session_id} ended.")
    except support.SupportRefused as refused:
        messages.error(request, refused.message)
    return back


@require_POST
@vendor_capability_required(VendorCapability.SUPPORT_SESSIONS)
def support_enter(request: HttpRequest, session_id: int) -> HttpResponse:
    return _session_action(request, session_id, "enter")


@require_POST
@vendor_capability_required(VendorCapability.SUPPORT_SESSIONS)
def support_write(request: HttpRequest, session_id: int) -> HttpResponse:
    return _session_action(request, session_id, "write")


@require_POST
@vendor_capability_required(VendorCapability.SUPPORT_SESSIONS)
def support_end(request: HttpRequest, session_id: int) -> HttpResponse:
    return _session_action(request, session_id, "end")


@require_http_methods(["GET", "HEAD", "POST"])
@vendor_capability_required(VendorCapability.VENDOR_STAFF)
def vendor_staff(request: HttpRequest) -> HttpResponse:
    """Every vendor staff account and its role; administrators change roles here."""
    status = 200
    if request.method == "POST":
        form = VendorRoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose support, billing or administrator.")
            status = 400
        else:
            member = get_object_or_404(
                get_user_model(), pk=form.cleaned_data["member"], is_staff=True
            )
            try:
                vendor_role_set(actor=_user(request), member=member, role=form.cleaned_data["role"])
            except RoleChangeRefused as refused:
                messages.error(request, refused.message)
                status = 400
            else:
                role = VendorRole(form.cleaned_data["role"]).label.lower()
                messages.success(request, f"{member.email} is now {role}.")
                return redirect("console:vendor_staff")
    members = [
        (member, vendor_role(member))
        for member in get_user_model()
        .objects.filter(is_staff=True)
        .select_related("vendor_staff")
        .order_by("email")
    ]
    context = {"members": members, "roles": VendorRole.choices}
    return render(request, "console/vendor_staff.html", context, status=status)


@require_safe
@vendor_capability_required(VendorCapability.PLATFORM_AUDIT)
def platform_audit(request: HttpRequest) -> HttpResponse:
    """The platform audit log, newest first, filtered and paged."""
    form = PlatformAuditFilterForm(request.GET or None)
    entries = PlatformAuditEntry.objects.all()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["department"]:
            entries = entries.filter(department=data["department"])
        if data["actor"]:
            entries = entries.filter(actor_email__icontains=data["actor"])
        zone = timezone.get_current_timezone()
        if data["since"]:
            entries = entries.filter(at__gte=datetime.combine(data["since"], time.min, zone))
        if data["until"]:
            entries = entries.filter(at__lte=datetime.combine(data["until"], time.max, zone))
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    status = 400 if form.is_bound and not form.is_valid() else 200
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "console/platform_audit.html", context, status=status)
