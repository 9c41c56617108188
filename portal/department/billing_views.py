"""The department's view of its city's device subscriptions (administrators only)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from portal.department import services
from portal.department.views import (
    ADMINISTER,
    PERSONAL_DATA,
    StaffRequest,
    _actor,
    staff_required,
)


@require_safe
@staff_required(ADMINISTER, PERSONAL_DATA)
def device_subscriptions(request: StaffRequest) -> HttpResponse:
    rows, page = services.device_subscriptions_view(
        actor=_actor(request), department=request.tenant, page=request.GET.get("page")
    )
    return render(request, "department/device_subscriptions.html", {"rows": rows, "page": page})
