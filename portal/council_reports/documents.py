"""A report's HTML and PDF, rendered from its stored figures only (so a published report's PDF
is the same report whenever it is made)."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.translation import get_language

from portal.council_reports.models import CouncilReport
from portal.council_reports.present import report_context
from tenants.models import Department

STYLESHEET = "council_reports/report.css"


def report_html(
    report: CouncilReport, department: Department, request: HttpRequest | None = None
) -> str:
    context = report_context(report) | {"department_name": department.name_in(get_language())}
    if request is not None and report.is_published:
        context["verify_url"] = request.build_absolute_uri(
            f"/transparency/reports/{report.pk}/verify/"
        )
    return render_to_string("council_reports/document.html", context, request=None)


def report_pdf(
    report: CouncilReport, department: Department, request: HttpRequest | None = None
) -> bytes:
    # Imported here: WeasyPrint loads pango when imported, which only PDF requests need.
    from weasyprint import CSS, HTML

    stylesheet = finders.find(STYLESHEET)
    assert isinstance(stylesheet, str)
    pdf = HTML(string=report_html(report, department, request)).write_pdf(
        stylesheets=[CSS(filename=stylesheet)]
    )
    assert pdf is not None
    return pdf
