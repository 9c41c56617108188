"""The oversight pages: the audit trail without residents' data for council members and
auditors, their flags and findings, and the administrators' answers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from portal.department.views import StaffRequest, staff_required
from portal.oversight import selectors, services
from portal.oversight.forms import FindingForm, FlagForm, ResolutionForm, TrailFilterForm
from portal.oversight.models import Finding
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, Capability
from tenants.http import client_ip

OVERSEE = Capability.OVERSEE
TRAIL_PAGE = 100


def _actor(request: StaffRequest) -> Actor:
    return Actor.of_staff(request.staff, client_ip(request))


def _refused(request: StaffRequest, refusal: services.OversightRefused) -> HttpResponse:
    return render(
        request, "oversight/refused.html", {"message": refusal.message}, status=refusal.status
    )


@require_safe
@staff_required(OVERSEE)
def trail(request: StaffRequest) -> HttpResponse:
    filters = TrailFilterForm(request.GET)
    if filters.is_valid():
        entries = selectors.trail(
            action=filters.cleaned_data["action"],
            case_number=filters.cleaned_data["case_number"],
            site_id=filters.cleaned_data["site"],
        )
    else:
        entries = AuditEntry.objects.none()
    page = Paginator(entries, TRAIL_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "oversight/trail.html",
        {
            "filters": filters,
            "page": page,
            "rows": selectors.trail_rows(page.object_list, request.tenant.program),
            "query": query.urlencode(),
            "open_findings": selectors.findings(open_only=True).count(),
        },
        status=200 if filters.is_valid() else 400,
    )


def _entry_page(
    request: StaffRequest,
    entry_id: int,
    *,
    flag_form: FlagForm | None = None,
    finding_form: FindingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    entry = AuditEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        return _refused(
            request,
            services.OversightRefused(str(services.NO_SUCH_ENTRY % {"id": entry_id}), 404),
        )
    return render(
        request,
        "oversight/entry.html",
        {
            "row": selectors.trail_rows([entry], request.tenant.program)[0],
            "flags": selectors.flags_of(entry),
            "findings": Finding.objects.filter(entry_id=entry.pk).select_related(
                "recorded_by__user", "resolved_by__user"
            ),
            "flag_form": flag_form or FlagForm(),
            "finding_form": finding_form or FindingForm(),
        },
        status=status,
    )


@require_safe
@staff_required(OVERSEE)
def entry(request: StaffRequest, entry_id: int) -> HttpResponse:
    return _entry_page(request, entry_id)


@require_POST
@staff_required(OVERSEE)
def entry_flag(request: StaffRequest, entry_id: int) -> HttpResponse:
    form = FlagForm(request.POST)
    if not form.is_valid():
        return _entry_page(request, entry_id, flag_form=form, status=400)
    try:
        services.entry_flag(actor=_actor(request), entry_id=entry_id, **form.cleaned_data)
    except services.OversightRefused as refusal:
        return _refused(request, refusal)
    messages.success(request, _("The entry is flagged for review."))
    return redirect("oversight:entry", entry_id=entry_id)


@require_POST
@staff_required(OVERSEE)
def finding_record(request: StaffRequest, entry_id: int) -> HttpResponse:
    form = FindingForm(request.POST)
    if not form.is_valid():
        return _entry_page(request, entry_id, finding_form=form, status=400)
    try:
        services.finding_record(
            actor=_actor(request),
            entry_id=entry_id,
            text=form.cleaned_data["text"],
            severity=form.cleaned_data["severity"],
            flag_id=form.cleaned_data["flag"],
        )
    except services.OversightRefused as refusal:
        if refusal.status == 400:
            form.add_error(None, refusal.message)
            return _entry_page(request, entry_id, finding_form=form, status=400)
        return _refused(request, refusal)
    messages.success(
        request, _("The finding is recorded; the department's administrators answer it.")
    )
    return redirect("oversight:entry", entry_id=entry_id)


@require_safe
@staff_required()
def findings(request: StaffRequest) -> HttpResponse:
    """Every finding, open ones first: oversight reads them, administrators answer them."""
    staff = request.staff
    if not (staff.can(OVERSEE) or staff.can(Capability.ADMINISTER)):
        raise PermissionDenied
    found = selectors.findings().order_by("resolved_at", "-recorded_at", "-pk")
    return render(
        request,
        "oversight/findings.html",
        {
            "findings": found[:500],
            "may_resolve": services.may_resolve(staff),
            "resolution_form": ResolutionForm(),
        },
    )


@require_POST
@staff_required()
def finding_resolve(request: StaffRequest, finding_id: int) -> HttpResponse:
    form = ResolutionForm(request.POST)
    try:
        services.finding_resolve(
            actor=_actor(request),
            finding_id=finding_id,
            resolution=form.data.get("resolution", ""),
        )
    except services.OversightRefused as refusal:
        if refusal.status in (400, 409):
            messages.error(request, refusal.message)
            return redirect("oversight:findings")
        return _refused(request, refusal)
    messages.success(request, _("The finding is resolved with the department's answer."))
    return redirect("oversight:findings")
