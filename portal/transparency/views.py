"""The public transparency page of a city (no sign-in), its data as JSON, CSV and an Atom feed,
and the console page where an administrator writes the published texts."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from portal.department.views import ADMINISTER, StaffRequest, staff_required
from portal.transparency import exports, providers, services
from portal.transparency.forms import PolicyForm
from portal.transparency.models import Policy
from portal.transparency.selectors import report_stamp, transparency_report
from tenants.http import DepartmentRequest
from tenants.models import Department


@require_safe
def page(request: DepartmentRequest) -> HttpResponse:
    department = request.tenant
    # The report is read only when the cached rendering is out of date (page.html).
    report = SimpleLazyObject(lambda: transparency_report(department=department))
    stamp = report_stamp(department=department)
    rules = SimpleLazyObject(lambda: published_rules(department=department))
    return render(
        request, "transparency/page.html", {"report": report, "stamp": stamp, "rules": rules}
    )


def published_rules(*, department: Department) -> list[dict[str, object]]:
    """The rules the department set on its own access (providers.rules_registered), as they
    stand, with their changes in the last twelve months."""
    since = timezone.now() - timedelta(days=365)
    return [
        {"title": provider.title, "rules": provider.rules(), "changes": provider.changes(since)}
        for provider in providers.rules_registered()
    ]


@require_safe
def data_json(request: DepartmentRequest) -> JsonResponse:
    report = transparency_report(department=request.tenant)
    data = exports.report_json(
        report,
        schema_url=request.build_absolute_uri(static("transparency/schema.json")),
        page_url=request.build_absolute_uri(reverse("transparency:page")),
    )
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def data_csv(request: DepartmentRequest) -> HttpResponse:
    report = transparency_report(department=request.tenant)
    response = HttpResponse(exports.report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="transparency.csv"'
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def feed(request: DepartmentRequest) -> HttpResponse:
    report = transparency_report(department=request.tenant)
    words = {
        "title": _("%(department)s: registry transparency") % {"department": request.tenant.name},
        "entry": _("Figures for {month}"),
        "fewer": _("fewer than 5"),
        "withheld": _("withheld"),
    }
    body = exports.report_atom(
        report,
        page_url=request.build_absolute_uri(reverse("transparency:page")),
        json_url=request.build_absolute_uri(reverse("transparency:data_json")),
        feed_url=request.build_absolute_uri(reverse("transparency:feed")),
        host=request.get_host().split(":")[0],
        words=words,
    )
    return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def policy_edit(request: StaffRequest) -> HttpResponse:
    latest = Policy.objects.first()
    initial = (
        {
            "policy_text": latest.policy_text,
            "retention_text": latest.retention_text,
            "funding_text": latest.funding_text,
        }
        if latest
        else {}
    )
    form = PolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        published = services.policy_publish(**form.cleaned_data)
        if published is None:
            messages.info(request, _("Nothing had changed; nothing was published."))
        else:
            messages.success(request, _("Published on the transparency page."))
        return redirect("transparency_console:policy")
    return render(
        request,
        "transparency/policy_edit.html",
        {"form": form, "latest": latest, "versions": Policy.objects.count()},
    )
