"""Reads of the billing picture that pages, jobs and other layers share."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import Customer, DevicePlan, PlanOffer, Subscription
from tenants.models import Department


def plans_offered(department: Department) -> QuerySet[DevicePlan]:
    """The device plans this department offers its residents, in its order: the one answer to
    "can an owner integrate here?" (none offered: registration only)."""
    return DevicePlan.objects.filter(active=True, offers__department=department).order_by(
        "offers__position", "offers__pk"
    )


def offer_positions(department: Department) -> dict[int, int]:
    return dict(PlanOffer.objects.filter(department=department).values_list("plan_id", "position"))


def subscriptions_by_site(department: Department, participant_id: int) -> dict[int, Subscription]:
    """Each of an owner's sites' subscription as the owner sees it: the open one (a Checkout
    under way, live, past due), else the latest that really began at Stripe (a Checkout left
    unpaid is no subscription). With its plan, device fulfilment and invoices."""
    found: dict[int, Subscription] = {}
    subscriptions = (
        Subscription.objects.filter(department=department, participant_id=participant_id)
        .select_related("plan", "fulfilment")
        .prefetch_related("invoices")
        .order_by("-created_at", "-pk")
    )
    for subscription in subscriptions:
        if not subscription.is_ended or (
            subscription.stripe_subscription_id and subscription.site_id not in found
        ):
            found[subscription.site_id] = subscription
    return found


def has_billing_account(department: Department, participant_id: int) -> bool:
    """Whether the owner is a Stripe customer here (the customer portal has something to show)."""
    return Customer.objects.filter(department=department, participant_id=participant_id).exists()


def city_device_subscriptions(department: Department) -> QuerySet[Subscription]:
    """The department's own device subscriptions (started at Stripe), for its administrators:
    site, plan, status, renewal and device state; the caller shows no payment detail."""
    return (
        Subscription.objects.filter(department=department)
        .exclude(status__in=[Subscription.Status.CHECKOUT, Subscription.Status.INCOMPLETE_EXPIRED])
        .select_related("plan", "fulfilment")
        .order_by("site_address", "pk")
    )


def site_device_subscription(department: Department, site_id: int) -> Subscription | None:
    """The subscription whose device serves a site of `department` (the live one, else the
    latest with a device): what live view's device reports move along."""
    return (
        Subscription.objects.filter(
            department=department, site_id=site_id, fulfilment__isnull=False
        )
        .order_by("-entitled", "-created_at", "-pk")
        .first()
    )


def plans_on_sale() -> QuerySet[DevicePlan]:
    """Every device plan on sale, cheapest yearly subscription first: the platform site's
    price list (a department offers a choice of these, plans_offered)."""
    return DevicePlan.objects.filter(active=True).order_by("yearly_price", "device_price", "pk")
