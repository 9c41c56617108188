"""The yard signs residents asked for on the site form: the department's fulfilment list
(still to deliver, or delivered), its CSV export and "delivered". The list shows addresses,
so each viewing and each export is recorded (portal.department.services)."""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from portal.department import selectors, services
from portal.department.forms import YardSignFilterForm
from portal.department.views import (
    ADMINISTER,
    PERSONAL_DATA,
    StaffRequest,
    _actor,
    _errors,
    staff_required,
)
from portal.registry.csv_safe import SafeWriter
from portal.registry.models import Site

# Requests on one page of the list.
YARD_SIGN_PAGE_SIZE = 50


def _status(request: StaffRequest) -> tuple[YardSignFilterForm, bool | None]:
    """Whether the list asked for is of delivered signs; None when the choice is not one."""
    form = YardSignFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, form.status_chosen() == YardSignFilterForm.DELIVERED


@require_safe
@staff_required(ADMINISTER, PERSONAL_DATA)
def yard_signs(request: StaffRequest) -> HttpResponse:
    form, delivered = _status(request)
    if delivered is None:
        messages.error(request, _errors(form))
        return render(
            request, "department/yard_signs.html", {"form": form, "page": None}, status=400
        )
    page = Paginator(selectors.yard_signs(delivered=delivered), YARD_SIGN_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    services.yard_signs_viewed(actor=_actor(request), sites=list(page), delivered=delivered)
    return render(
        request,
        "department/yard_signs.html",
        {
            "form": form,
            "page": page,
            "delivered": delivered,
            "query": "status=delivered" if delivered else "",
        },
    )


@require_safe
@staff_required(ADMINISTER, PERSONAL_DATA)
def yard_signs_export(request: StaffRequest) -> HttpResponse:
    """The list as CSV (every page of it, in the list's order), recorded per site."""
    form, delivered = _status(request)
    if delivered is None:
        messages.error(request, _errors(form))
        return render(
            request, "department/yard_signs.html", {"form": form, "page": None}, status=400
        )
    sites = list(selectors.yard_signs(delivered=delivered))
    services.yard_signs_for_export(actor=_actor(request), sites=sites, delivered=delivered)
    buffer = io.StringIO()
    writer = SafeWriter(buffer)
    writer.writerow(
        ["site", "deliver_to", "site_address", "requested_at", "delivered_at", "delivered_by"]
    )
    for site in sites:
        by = site.yard_sign_delivered_by
        writer.writerow(
            [
                site.pk,
                site.yard_sign_destination,
                site.address,
                site.created_at.isoformat(),
                site.yard_sign_delivered_at.isoformat() if site.yard_sign_delivered_at else "",
                by.user.email if by else "",
            ]
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    name = "yard-signs-delivered" if delivered else "yard-signs-to-deliver"
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@require_POST
@staff_required(ADMINISTER, PERSONAL_DATA)
def yard_sign_delivered(request: StaffRequest, site_id: int) -> HttpResponse:
    """Mark one site's sign delivered (when and by whom); back to the list where it was."""
    site = get_object_or_404(Site, pk=site_id)
    try:
        services.yard_sign_delivered(actor=_actor(request), site=site)
    except services.YardSignRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(
            request,
            _("The yard sign for %(address)s is marked delivered.")
            % {"address": site.yard_sign_destination},
        )
    page = request.POST.get("page", "")
    back = reverse("department:yard_signs")
    return redirect(f"{back}?page={page}" if page.isdigit() else back)
