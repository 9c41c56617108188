"""The console's address search: places for a typed address and the address at a clicked point
(the new-incident form and the registry map), and the administrator's choice of the
department's geocoder (a section of the settings page)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from portal.department import services
from portal.department.forms import GeocoderChoiceForm
from portal.department.views import ADMINISTER, StaffRequest, staff_required
from portal.registry import geocoding


@require_safe
@staff_required()
def geocode(request: StaffRequest) -> HttpResponse:
    program = request.tenant.program
    if not geocoding.enabled(program):
        raise Http404
    body, status = geocoding.search_answer(
        program, request.GET.get("q", ""), who=f"staff:{request.staff.pk}"
    )
    return JsonResponse(body, status=status)


@require_safe
@staff_required()
def geocode_reverse(request: StaffRequest) -> HttpResponse:
    program = request.tenant.program
    if not geocoding.enabled(program):
        raise Http404
    body, status = geocoding.reverse_answer(
        program,
        request.GET.get("lat", ""),
        request.GET.get("lon", ""),
        who=f"staff:{request.staff.pk}",
    )
    return JsonResponse(body, status=status)


@require_POST
@staff_required(ADMINISTER)
def geocoder_settings(request: StaffRequest) -> HttpResponse:
    """The settings page's "Address search" form: which geocoder the department uses."""
    form = GeocoderChoiceForm(request.POST)
    if form.is_valid():
        services.geocoder_set(program=request.tenant.program, choice=form.cleaned_data["geocoder"])
        messages.success(request, _("The address search is saved."))
    else:
        messages.error(request, _("Choose one of the address searches listed."))
    return redirect(f"{reverse('department:settings')}#geocoder")
