"""Vendor support on a city's host: the single-use entry link, and the department
administrators' page of support sessions (approve write access, end a session). They live with
the sessions (console, public schema) and stand on the department console's staff_required."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from console import support
from console.models import SupportSession
from portal.department.views import StaffRequest, _actor, staff_required
from portal.registry.models import Capability
from tenants.auth_backends import MODEL_BACKEND
from tenants.http import DepartmentRequest, client_ip
from tenants.signing import LinkError

ACCOUNTS = Capability.ACCOUNTS


@require_safe
def enter(request: DepartmentRequest, token: str) -> HttpResponse:
    """Vendor staff arrive here from the platform's "Enter" (a link signed for this city, used
    once); they are signed in as their support identity for the session."""
    try:
        entered = support.support_enter(
            token=token, department=request.tenant, ip=client_ip(request)
        )
    except LinkError as error:
        message = support.ENTRY_REFUSALS.get(error.reason, support.ENTRY_REFUSALS["invalid"])
        return render(
            request, "console/city/support_link_refused.html", {"refusal": message}, status=400
        )
    login(request, entered.user, backend=MODEL_BACKEND)
    request.session[support.SESSION_KEY] = entered.session.pk
    return redirect("department:home")


@require_safe
@staff_required(ACCOUNTS)
def sessions(request: StaffRequest) -> HttpResponse:
    """This department's vendor support sessions, live first."""
    rows = SupportSession.objects.filter(department_id=request.tenant.pk).order_by(
        "ended_at", "-requested_at"
    )[:100]
    return render(request, "console/city/support_sessions.html", {"sessions": rows})


def _act(request: StaffRequest, session_id: int, approve: bool) -> HttpResponse:
    try:
        if approve:
            support.support_write_approve(
                actor=_actor(request), department=request.tenant, session_id=session_id
            )
            messages.success(request, _("Write access approved for this support session."))
        else:
            support.support_end_by_department(
                actor=_actor(request), department=request.tenant, session_id=session_id
            )
            messages.success(request, _("The support session has ended."))
    except support.SupportRefused as refused:
        messages.error(request, refused.message)
    return redirect("support:sessions")


@require_POST
@staff_required(ACCOUNTS)
def approve(request: StaffRequest, session_id: int) -> HttpResponse:
    return _act(request, session_id, approve=True)


@require_POST
@staff_required(ACCOUNTS)
def end(request: StaffRequest, session_id: int) -> HttpResponse:
    return _act(request, session_id, approve=False)
