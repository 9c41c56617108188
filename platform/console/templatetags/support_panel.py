"""What the department page's support panel shows (console/department_support_panel.html
renders from `department` and `request` alone, wherever it is included)."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest

from console.access import vendor_can
from console.models import SupportSession, VendorCapability
from console.support_forms import SupportRequestForm
from tenants.models import Department

register = template.Library()


@register.simple_tag
def support_panel(
    department: Department, request: HttpRequest, form: SupportRequestForm | None = None
) -> dict[str, Any]:
    return {
        "sessions": SupportSession.objects.filter(department=department)[:10],
        "form": form or SupportRequestForm(),
        "may_request": vendor_can(request.user, VendorCapability.SUPPORT_SESSIONS),
        "user_id": request.user.pk,
    }
