"""The console's guardrail pages: the administrator's settings, and the queue of requests
waiting for a second staff member's approval."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.department.views import StaffRequest, staff_required
from portal.guardrails import selectors, services
from portal.guardrails.forms import GuardrailsForm
from portal.guardrails.models import ApprovalRequest, Guardrails
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, Capability
from tenants.http import client_ip

RESULT_SHOWN_FOR = timedelta(days=1)


def _actor(request: StaffRequest) -> Actor:
    return Actor.of_staff(request.staff, client_ip(request))


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required()
def guardrails_settings(request: StaffRequest) -> HttpResponse:
    """Administrators set the guardrails; the department's oversight members (council, auditors)
    read them, with their history, and change nothing."""
    may_change = request.staff.can(Capability.ADMINISTER)
    if not (may_change or request.staff.can(Capability.OVERSEE)):
        raise PermissionDenied
    if request.method == "POST" and not may_change:
        raise PermissionDenied
    program = request.tenant.program
    guardrails = Guardrails.current()
    form = GuardrailsForm(request.POST or None, program=program, guardrails=guardrails)
    if not may_change:
        for read_only in form.fields.values():
            read_only.disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.guardrails_set(
                actor=_actor(request),
                program=program,
                values=services.values_from(form.cleaned_data),
            )
        except services.GuardrailsInvalid as invalid:
            for field, message in invalid.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("The guardrails are saved."))
            return redirect("department:guardrails")
    changes = AuditEntry.objects.filter(action=AuditEntry.Action.GUARDRAIL_CHANGE).order_by("-at")[
        :20
    ]
    return render(
        request,
        "guardrails/settings.html",
        {
            "form": form,
            "guardrails": guardrails,
            "program": program,
            "changes": changes,
            "may_change": may_change,
        },
        status=400 if form.errors else 200,
    )


@require_safe
@staff_required()
def approvals(request: StaffRequest) -> HttpResponse:
    return render(
        request,
        "guardrails/approvals.html",
        {
            "waiting": selectors.approvals_waiting_for(request.staff),
            "mine": selectors.approvals_of(request.staff),
        },
    )


@require_POST
@staff_required()
def approval_decide(request: StaffRequest, approval_id: int) -> HttpResponse:
    approval = get_object_or_404(ApprovalRequest, pk=approval_id)
    approve = request.POST.get("decision") == "approve"
    try:
        services.approval_decide(actor=_actor(request), approval=approval, approve=approve)
    except services.ApprovalRefused as refused:
        messages.error(request, refused.message)
        return render(
            request,
            "guardrails/approvals.html",
            {
                "waiting": selectors.approvals_waiting_for(request.staff),
                "mine": selectors.approvals_of(request.staff),
            },
            status=409,
        )
    messages.success(
        request, _("Approved: the action ran.") if approve else pgettext("guardrails", "Declined.")
    )
    return redirect("department:approvals")


@require_safe
@staff_required(Capability.CASEWORK)
def approval_result(request: StaffRequest, approval_id: int) -> HttpResponseBase:
    """What an approved request of one's own gave: the contact details, or the live view."""
    approval = get_object_or_404(
        ApprovalRequest.objects.select_related("incident", "site__participant"),
        pk=approval_id,
        requested_by=request.staff,
        status=ApprovalRequest.Status.APPROVED,
    )
    # Shown for a day after the approval (the reveal's audit entry is written at approval).
    if approval.decided_at is None or approval.decided_at < timezone.now() - RESULT_SHOWN_FOR:
        raise Http404
    if approval.kind == ApprovalRequest.Kind.LIVE_VIEW:
        return redirect("department:live_grant", grant_id=approval.grant_id)
    if approval.incident is None or approval.site is None:
        raise Http404
    return render(
        request,
        "department/reveal.html",
        {"incident": approval.incident, "site": approval.site, "shown": True},
    )
