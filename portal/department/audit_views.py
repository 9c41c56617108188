"""The department's audit trail: the page, a filtered page at a time, and its CSV export,
both narrowed by the same filters (AuditFilterForm, selectors.audit_trail)."""

from __future__ import annotations

import io
from collections.abc import Iterator

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_safe

from portal.department import selectors
from portal.department.forms import AuditFilterForm
from portal.department.views import ADMINISTER, StaffRequest, _actor, staff_required
from portal.registry import services as registry_services
from portal.registry.csv_safe import SafeWriter
from portal.registry.models import AuditEntry

# Entries on one page of the trail.
AUDIT_PAGE_SIZE = 50
# The page's position in the trail: ids (selectors.audit_page), checked like the filters.
CURSOR_MAX = 2**63 - 1


def _filters_of(request: StaffRequest) -> tuple[AuditFilterForm, selectors.AuditFilters | None]:
    """The filters the query string asks for; None (and the form's errors) when one is not a
    value any entry could match."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, selectors.AuditFilters.of_days(**form.cleaned_data)


def _problems(form: AuditFilterForm) -> str:
    return " ".join(
        f"{form[name].label}: {error}" if name in form.fields else str(error)
        for name, errors in form.errors.items()
        for error in errors
    )


def _cursor(request: StaffRequest, name: str) -> int | None:
    """A page position from the query string: an entry's id; None when absent or not one."""
    value = request.GET.get(name, "")
    if value.isdigit() and 0 < int(value) <= CURSOR_MAX:
        return int(value)
    return None


def _query_without_cursor(request: StaffRequest) -> str:
    """The filters' query string, for the page links and the export link."""
    query = request.GET.copy()
    for name in ("before", "after"):
        query.pop(name, None)
    return query.urlencode()


@require_safe
@staff_required(ADMINISTER)
def audit(request: StaffRequest) -> HttpResponse:
    form, filters = _filters_of(request)
    query = _query_without_cursor(request)
    if filters is None:
        messages.error(request, _problems(form))
        return render(
            request,
            "department/audit.html",
            {"form": form, "page": None, "query": query, "program": request.tenant.program},
            status=400,
        )
    page = selectors.audit_page(
        selectors.audit_trail(filters),
        size=AUDIT_PAGE_SIZE,
        before=_cursor(request, "before"),
        after=_cursor(request, "after"),
    )
    return render(
        request,
        "department/audit.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "filtered": bool(filters.described()),
            "program": request.tenant.program,
        },
    )


AUDIT_CSV_COLUMNS = [
    "at",
    "actor",
    "role",
    "action",
    "site",
    "category",
    "case",
    "note",
    "reason",
    "ip_address",
]


@require_safe
@staff_required(ADMINISTER)
def audit_export(request: StaffRequest) -> HttpResponseBase:
    """The audit trail as CSV for the council or an auditor, narrowed by the page's filters
    (the same rule: selectors.audit_trail); the export is itself recorded, filters included."""
    form, filters = _filters_of(request)
    if filters is None:
        messages.error(request, _problems(form))
        return render(
            request,
            "department/audit.html",
            {
                "form": form,
                "page": None,
                "query": _query_without_cursor(request),
                "program": request.tenant.program,
            },
            status=400,
        )
    entries = registry_services.audit_trail_for_export(
        actor=_actor(request), entries=selectors.audit_trail(filters), filters=filters.described()
    )
    program = request.tenant.program

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = SafeWriter(buffer)
        writer.writerow(AUDIT_CSV_COLUMNS)
        entry: AuditEntry
        for entry in entries.iterator(chunk_size=2000):
            writer.writerow(
                [
                    entry.at.isoformat(),
                    entry.actor_email,
                    entry.actor_role,
                    entry.action,
                    entry.site_id or "",
                    program.offence_label(entry.category) if entry.category else "",
                    entry.case_number,
                    entry.note,
                    entry.reason,
                    entry.ip_address or "",
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
    return response
