"""The rules every part of billing shares: how a Stripe subscription's state is applied to ours
(never backwards), how entitlement starts on a paid invoice and ends when the money stops, how an
invoice is recorded, and the history line each change leaves. Webhooks, Checkout, the billing
console and the licenses all go through these; none writes those rows by itself.

Effects on a city (its site integrated or not, its audit trail) happen in that city's schema,
inside the caller's transaction: the public rows and the city's rows commit together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.gateway import StripeDict
from billing.models import (
    Customer,
    Fulfilment,
    Invoice,
    License,
    Subscription,
    SubscriptionEvent,
)
from portal.registry.audit import Actor
from portal.registry.models import Participant, Site
from portal.registry.services import site_integration_set
from tenants.models import Department

# Who the city's audit trail says changed a site's integration: billing, on Stripe's word.
BILLING_ACTOR = Actor.system("billing")


def from_timestamp(value: int | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


@contextmanager
def in_department(department: Department) -> Iterator[None]:
    """Run a block in the department's schema (and time zone), back to the caller's after."""
    with tenant_context(department), department.in_time_zone():
        yield


def history(
    subscription: Subscription,
    kind: str,
    *,
    stripe_event_id: str = "",
    actor_email: str = "",
    reason: str = "",
    amount: int | None = None,
    detail: str = "",
) -> SubscriptionEvent:
    """One line of a subscription's history (what Stripe said, or who did what and why)."""
    return SubscriptionEvent.objects.create(
        subscription=subscription,
        kind=kind,
        stripe_event_id=stripe_event_id,
        actor_email=actor_email,
        reason=reason[:500],
        amount=amount,
        detail=detail[:500],
    )


def subscription_period_end(stripe_subscription: StripeDict) -> datetime | None:
    """The end of the paid period: on the subscription items since API 2025-03-31."""
    items = stripe_subscription.get("items", {}).get("data", [])
    ends = [item.get("current_period_end") for item in items if item.get("current_period_end")]
    return from_timestamp(max(ends)) if ends else None


def invoice_subscription_id(stripe_invoice: StripeDict) -> str | None:
    """The subscription an invoice bills (under `parent` since API 2025-03-31)."""
    parent = stripe_invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return details.get("subscription") or stripe_invoice.get("subscription") or None


def invoice_payment_intent(stripe_invoice: StripeDict) -> str:
    payments = (stripe_invoice.get("payments") or {}).get("data") or []
    for payment in payments:
        intent = (payment.get("payment") or {}).get("payment_intent")
        if intent:
            return str(intent)
    return str(stripe_invoice.get("payment_intent") or "")


@transaction.atomic
def subscription_state_apply(
    *,
    subscription: Subscription,
    stripe_subscription: StripeDict,
    as_of: datetime | None = None,
    stripe_event_id: str = "",
) -> Subscription:
    """Bring our subscription to the state Stripe reports, unless a newer one was applied.
    Callers pass what they fetched from Stripe just now (`as_of` = when they fetched it, by
    default now), never an event's own snapshot, so that events arriving out of order cannot
    move a subscription backwards. An ended subscription ends the entitlement; nothing here
    starts one (only a paid invoice does: entitlement_start)."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    snapshot_at = as_of or timezone.now()
    if subscription.stripe_state_at and snapshot_at < subscription.stripe_state_at:
        return subscription
    if (
        subscription.is_ended
        and stripe_subscription.get("status") not in Subscription.ENDED_STATUSES
    ):
        # Ended is final: a late "active" snapshot never revives a cancelled subscription.
        return subscription
    previous = subscription.status
    subscription.stripe_subscription_id = stripe_subscription["id"]
    subscription.status = stripe_subscription["status"]
    subscription.current_period_end = subscription_period_end(stripe_subscription)
    subscription.cancel_at_period_end = bool(stripe_subscription.get("cancel_at_period_end"))
    subscription.stripe_state_at = snapshot_at
    if subscription.started_at is None:
        subscription.started_at = from_timestamp(stripe_subscription.get("start_date"))
    if subscription.status == Subscription.Status.ACTIVE:
        subscription.grace_until = None
    subscription.save()
    if previous != subscription.status:
        history(
            subscription,
            f"status:{subscription.status}",
            stripe_event_id=stripe_event_id,
            detail=f"{previous} -> {subscription.status}",
        )
    if subscription.is_ended:
        entitlement_end(subscription=subscription, reason="The subscription ended at Stripe.")
    return subscription


@transaction.atomic
def entitlement_start(*, subscription: Subscription, stripe_event_id: str = "") -> Subscription:
    """A paid invoice: the site becomes integrated and its device is ordered (once)."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.is_ended:
        return subscription
    if not subscription.entitled:
        subscription.entitled = True
        subscription.grace_until = None
        subscription.save(update_fields=["entitled", "grace_until", "updated_at"])
        history(subscription, "entitlement_started", stripe_event_id=stripe_event_id)
    Fulfilment.objects.get_or_create(subscription=subscription)
    with in_department(subscription.department):
        site = Site.objects.filter(pk=subscription.site_id).first()
        if site is not None:
            site_integration_set(
                site=site,
                integrated=True,
                actor=BILLING_ACTOR,
                reason=f"Device subscription paid ({subscription.plan.name}).",
            )
    return subscription


@transaction.atomic
def entitlement_end(*, subscription: Subscription, reason: str, stripe_event_id: str = "") -> None:
    """The money stopped (cancelled, unpaid, grace over, opted out): the site returns to
    registered, its registration kept. A lapse always means the police lose access."""
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    if subscription.entitled:
        subscription.entitled = False
        subscription.ended_at = subscription.ended_at or timezone.now()
        subscription.save(update_fields=["entitled", "ended_at", "updated_at"])
        history(subscription, "entitlement_ended", stripe_event_id=stripe_event_id, reason=reason)
    with in_department(subscription.department):
        site = Site.objects.filter(pk=subscription.site_id).first()
        if site is not None and not _other_entitlement(subscription):
            site_integration_set(site=site, integrated=False, actor=BILLING_ACTOR, reason=reason)


def _other_entitlement(subscription: Subscription) -> bool:
    return (
        Subscription.objects.entitled()
        .filter(department=subscription.department, site_id=subscription.site_id)
        .exclude(pk=subscription.pk)
        .exists()
    )


def grace_start(*, subscription: Subscription, now: datetime | None = None) -> Subscription:
    """A renewal failed: the owner keeps the integration for BILLING_GRACE_DAYS while Stripe
    retries (the caller tells the owner). Idempotent: a second failure keeps the first date."""
    now = now or timezone.now()
    if subscription.grace_until is None:
        subscription.grace_until = now + timedelta(days=settings.BILLING_GRACE_DAYS)
        subscription.save(update_fields=["grace_until", "updated_at"])
    return subscription


def grace_expired_end(*, now: datetime | None = None, department: Department | None = None) -> int:
    """End the entitlement of every subscription (of `department`, or of every department)
    whose grace period after a failed payment is over and which is not active again (nor in a
    trial, e.g. a complimentary period): the site returns to registered. Each in its own
    transaction; idempotent. Returns how many ended."""
    now = now or timezone.now()
    expired = (
        Subscription.objects.entitled()
        .filter(grace_until__lt=now)
        .exclude(status__in=[Subscription.Status.ACTIVE, Subscription.Status.TRIALING])
        .select_related("department", "plan")
    )
    if department is not None:
        expired = expired.filter(department=department)
    ended = 0
    for subscription in expired:
        entitlement_end(
            subscription=subscription,
            reason="The grace period after a failed payment ended.",
        )
        ended += 1
    return ended


@transaction.atomic
def invoice_record(*, stripe_invoice: StripeDict, department: Department) -> Invoice:
    """Create or update our copy of a Stripe invoice (of a subscription or a license), the
    newer state winning: a paid invoice never goes back to open."""
    subscription_id = invoice_subscription_id(stripe_invoice)
    subscription = (
        Subscription.objects.filter(stripe_subscription_id=subscription_id).first()
        if subscription_id
        else None
    )
    license_id = (stripe_invoice.get("metadata") or {}).get("license")
    license_ = (
        License.objects.filter(pk=license_id, department=department).first()
        if license_id and str(license_id).isdigit()
        else None
    )
    invoice, _created = Invoice.objects.select_for_update().get_or_create(
        stripe_invoice_id=stripe_invoice["id"],
        defaults={
            "department": department,
            "subscription": subscription,
            "license": license_,
            "status": stripe_invoice["status"] or Invoice.Status.DRAFT,
            "currency": stripe_invoice["currency"],
            "created": from_timestamp(stripe_invoice["created"]) or timezone.now(),
        },
    )
    final = {Invoice.Status.PAID, Invoice.Status.VOID, Invoice.Status.UNCOLLECTIBLE}
    if invoice.status in final and stripe_invoice["status"] not in final:
        return invoice
    invoice.subscription = invoice.subscription or subscription
    invoice.license = invoice.license or license_
    invoice.status = stripe_invoice["status"] or invoice.status
    invoice.number = stripe_invoice.get("number") or ""
    invoice.amount_due = stripe_invoice.get("amount_due") or 0
    invoice.amount_paid = stripe_invoice.get("amount_paid") or 0
    invoice.hosted_invoice_url = stripe_invoice.get("hosted_invoice_url") or ""
    invoice.invoice_pdf = stripe_invoice.get("invoice_pdf") or ""
    invoice.payment_intent_id = invoice_payment_intent(stripe_invoice) or invoice.payment_intent_id
    transitions = stripe_invoice.get("status_transitions") or {}
    invoice.paid_at = from_timestamp(transitions.get("paid_at")) or invoice.paid_at
    invoice.save()
    if invoice.license is not None:
        license_apply_invoice(license_=invoice.license, stripe_invoice=stripe_invoice)
    return invoice


def license_apply_invoice(*, license_: License, stripe_invoice: StripeDict) -> License:
    """A license's status follows its invoice (overdue is ours: open past its due date)."""
    status = stripe_invoice["status"]
    if license_.status == License.Status.PAID and status != License.Status.PAID:
        return license_
    license_.stripe_invoice_id = stripe_invoice["id"]
    license_.hosted_invoice_url = stripe_invoice.get("hosted_invoice_url") or ""
    due = from_timestamp(stripe_invoice.get("due_date"))
    license_.due_date = due.date() if due else license_.due_date
    if status == "paid":
        license_.status = License.Status.PAID
        paid_at = (stripe_invoice.get("status_transitions") or {}).get("paid_at")
        license_.paid_at = from_timestamp(paid_at) or timezone.now()
    elif status == "open":
        overdue = license_.due_date is not None and license_.due_date < timezone.localdate()
        license_.status = License.Status.OVERDUE if overdue else License.Status.OPEN
    elif status in {"void", "uncollectible", "draft"}:
        license_.status = status
    license_.save()
    return license_


def customer_department(stripe_customer_id: str | None) -> Department | None:
    """The department a Stripe customer belongs to (the public-schema map)."""
    if not stripe_customer_id:
        return None
    customer = (
        Customer.objects.select_related("department")
        .filter(stripe_customer_id=stripe_customer_id)
        .first()
    )
    return customer.department if customer else None


def participant_of(subscription: Subscription) -> Participant | None:
    """The subscription's owner, read in the department's schema (callers are inside it)."""
    return Participant.objects.select_related("user").filter(pk=subscription.participant_id).first()


def metadata_of(obj: StripeDict) -> dict[str, Any]:
    return dict(obj.get("metadata") or {})


@transaction.atomic
def fulfilment_online(*, subscription: Subscription, at: datetime) -> Fulfilment | None:
    """The subscription's device was heard from (live view's heartbeat): its fulfilment is
    online from `at` (the first time only; states never move backwards, a returned device stays
    returned) and no longer offline. None when the subscription ships no device."""
    fulfilment = Fulfilment.objects.select_for_update().filter(subscription=subscription).first()
    if fulfilment is None or fulfilment.state == Fulfilment.State.RETURNED:
        return fulfilment
    changed: list[str] = []
    if fulfilment.state != Fulfilment.State.ONLINE:
        fulfilment.state = Fulfilment.State.ONLINE
        fulfilment.online_at = at
        fulfilment.installed_at = fulfilment.installed_at or at
        changed += ["state", "online_at", "installed_at"]
        history(subscription, "fulfilment:online", detail="First heartbeat of the device.")
    if fulfilment.device_offline_since is not None:
        fulfilment.device_offline_since = None
        changed.append("device_offline_since")
    if changed:
        fulfilment.save(update_fields=changed)
    return fulfilment


@transaction.atomic
def fulfilment_offline(*, subscription: Subscription, since: datetime) -> Fulfilment | None:
    """The subscription's device went silent at `since` (live view's offline check): the
    vendor's fulfilment queue shows it until the device is heard again (fulfilment_online)."""
    fulfilment = Fulfilment.objects.select_for_update().filter(subscription=subscription).first()
    if fulfilment is None or fulfilment.state != Fulfilment.State.ONLINE:
        return fulfilment
    if fulfilment.device_offline_since is None:
        fulfilment.device_offline_since = since
        fulfilment.save(update_fields=["device_offline_since"])
        history(subscription, "fulfilment:offline", detail=f"Silent since {since:%Y-%m-%d %H:%M}.")
    return fulfilment
