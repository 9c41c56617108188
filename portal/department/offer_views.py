"""The department console's billing pages for administrators: which device plans the city offers
its residents (and in which order), and the city's platform license (status and renewal date,
never payment details)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from billing.catalog import offers_set
from billing.models import DevicePlan, License
from billing.selectors import offer_positions
from portal.department.forms import PlanOffersForm
from portal.department.views import ADMINISTER, StaffRequest, staff_required


@require_http_methods(["GET", "HEAD", "POST"])
@staff_required(ADMINISTER)
def plan_offers(request: StaffRequest) -> HttpResponse:
    department = request.tenant
    offered = offer_positions(department)
    # The city's offers first, in its order, then the rest of the catalog.
    plans = sorted(
        DevicePlan.objects.filter(active=True).order_by("yearly_price", "pk"),
        key=lambda plan: (plan.pk not in offered, offered.get(plan.pk, 0)),
    )
    form = PlanOffersForm(
        request.POST if request.method == "POST" else None, plans=plans, offered=offered
    )
    if request.method == "POST" and form.is_valid():
        offers_set(department=department, plans=form.chosen())
        messages.success(request, _("The device plans your residents can choose are saved."))
        return redirect("department:plan_offers")
    return render(
        request,
        "department/plan_offers.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_safe
@staff_required(ADMINISTER)
def license_status(request: StaffRequest) -> HttpResponse:
    licenses = License.objects.filter(department=request.tenant).order_by("-period_start", "-pk")
    return render(request, "department/license.html", {"licenses": licenses})
