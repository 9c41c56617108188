"""Council reports: the administrator's pages (generate, fill in, publish) under
/department/reports/, and the public list, pages, PDFs and signature check under
/transparency/reports/ (no sign-in)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from portal.council_reports import services
from portal.council_reports.documents import report_pdf
from portal.council_reports.forms import DepartmentFieldsForm, PeriodForm
from portal.council_reports.models import CouncilReport
from portal.council_reports.present import report_context
from portal.department.views import StaffRequest, staff_required
from portal.registry.models import Capability
from tenants.http import DepartmentRequest
from tenants.models import Department

ADMINISTER = Capability.ADMINISTER


def _department(request: DepartmentRequest) -> Department:
    return request.tenant


def _pdf_response(report: CouncilReport, request: DepartmentRequest) -> HttpResponse:
    response = HttpResponse(
        report_pdf(report, _department(request), request), content_type="application/pdf"
    )
    name = f"council-report-{report.period_start}-{report.period_end}.pdf"
    response["Content-Disposition"] = content_disposition_header(False, name) or "inline"
    return response


def _report_page(
    request: DepartmentRequest, report: CouncilReport, template: str, **extra: Any
) -> HttpResponse:
    context = (
        report_context(report)
        | {"department_name": _department(request).name_in(get_language())}
        | extra
    )
    status = extra.pop("status", 200)
    return render(request, template, context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def reports(request: StaffRequest) -> HttpResponse:
    form = PeriodForm(request.POST or None, today=timezone.localdate())
    refusal = ""
    if request.method == "POST" and form.is_valid():
        start, end = form.period()
        try:
            report = services.report_generate(department=_department(request), start=start, end=end)
        except services.ReportRefused as refused:
            refusal = refused.message
        else:
            return redirect("council_reports:report", report.pk)
    return render(
        request,
        "council_reports/staff_list.html",
        {"form": form, "refusal": refusal, "reports": CouncilReport.objects.all()[:100]},
        status=400 if (form.errors or refusal) else 200,
    )


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def report(request: StaffRequest, report_id: int) -> HttpResponse:
    found = get_object_or_404(CouncilReport, pk=report_id)
    form = DepartmentFieldsForm(request.POST or None, instance=found)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_fields_save(report=found, values=form.cleaned_data)
        except services.ReportRefused as refused:
            return _report_page(
                request,
                found,
                "council_reports/staff_report.html",
                form=form,
                refusal=refused.message,
                status=409,
            )
        return redirect("council_reports:report", found.pk)
    found.refresh_from_db()
    return _report_page(request, found, "council_reports/staff_report.html", form=form)


@require_POST
@staff_required(ADMINISTER)
def publish(request: StaffRequest, report_id: int) -> HttpResponse:
    found = get_object_or_404(CouncilReport, pk=report_id)
    services.report_publish(department=_department(request), report=found)
    return redirect("council_reports:report", found.pk)


@require_safe
@staff_required(ADMINISTER)
def pdf(request: StaffRequest, report_id: int) -> HttpResponse:
    return _pdf_response(get_object_or_404(CouncilReport, pk=report_id), request)


@require_safe
def published_list(request: DepartmentRequest) -> HttpResponse:
    return render(
        request,
        "council_reports/public_list.html",
        {"reports": CouncilReport.objects.published()},
    )


@require_safe
def published_report(request: DepartmentRequest, report_id: int) -> HttpResponse:
    found = get_object_or_404(CouncilReport.objects.published(), pk=report_id)
    return _report_page(request, found, "council_reports/public_report.html")


@require_safe
def published_pdf(request: DepartmentRequest, report_id: int) -> HttpResponse:
    return _pdf_response(
        get_object_or_404(CouncilReport.objects.published(), pk=report_id), request
    )


@require_safe
def published_verify(request: DepartmentRequest, report_id: int) -> HttpResponse:
    found = get_object_or_404(CouncilReport.objects.published(), pk=report_id)
    pasted = request.GET.get("statement", "").strip()[:4000]
    verification = services.report_verify(
        department=_department(request), report=found, statement=pasted or None
    )
    return render(
        request,
        "council_reports/verify.html",
        {"report": found, "verification": verification, "pasted": pasted},
    )
