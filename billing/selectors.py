"""Reads of the billing picture that pages, jobs and other layers share."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import DevicePlan, PlanOffer, Subscription
from tenants.models import Department


def plans_offered(department: Department) -> QuerySet[DevicePlan]:
    """The device plans this department offers its residents, in its order: the one answer to
    "can an owner integrate here?" (none offered: registration only)."""
    return DevicePlan.objects.filter(active=True, offers__department=department).order_by(
        "offers__position", "offers__pk"
    )


def offer_positions(department: Department) -> dict[int, int]:
    return dict(PlanOffer.objects.filter(department=department).values_list("plan_id", "position"))


def city_device_subscriptions(department: Department) -> QuerySet[Subscription]:
    """The department's own device subscriptions (started at Stripe), for its administrators:
    site, plan, status, renewal and device state; the caller shows no payment detail."""
    return (
        Subscription.objects.filter(department=department)
        .exclude(status__in=[Subscription.Status.CHECKOUT, Subscription.Status.INCOMPLETE_EXPIRED])
        .select_related("plan", "fulfilment")
        .order_by("site_address", "pk")
    )
