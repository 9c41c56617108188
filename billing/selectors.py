"""Reads of the billing picture that pages, jobs and other layers share."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import DevicePlan, PlanOffer
from tenants.models import Department


def plans_offered(department: Department) -> QuerySet[DevicePlan]:
    """The device plans this department offers its residents, in its order: the one answer to
    "can an owner integrate here?" (none offered: registration only)."""
    return DevicePlan.objects.filter(active=True, offers__department=department).order_by(
        "offers__position", "offers__pk"
    )


def offer_positions(department: Department) -> dict[int, int]:
    return dict(PlanOffer.objects.filter(department=department).values_list("plan_id", "position"))
