"""Stripe reconciliation: our subscriptions, invoices and licenses of one department compared
with what Stripe holds now, for when a webhook never arrived (an outage past Stripe's three days
of retries, an endpoint misconfigured for a while). Where they differ, the event Stripe would have
sent is processed through the webhook's own path (webhooks.event_process): the same rules, the
same alerts, and a record of the correction in the webhook log under an id of its own
("reconcile:<object>:<state>"), so two runs at once, or a run and the late webhook, apply it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from billing import webhooks
from billing.gateway import Gateway, StripeDict, StripeRefused
from billing.models import Invoice, License, Subscription, WebhookEvent
from billing.services import subscription_period_end
from tenants.models import Department

logger = logging.getLogger(__name__)

# Checkout sessions expire after a day at Stripe; one left unlinked longer is abandoned.
CHECKOUT_LOOKBACK = timedelta(days=3)
OPEN_INVOICE = (Invoice.Status.DRAFT, Invoice.Status.OPEN)


@dataclass
class Reconciliation:
    """What one run found: the objects it compared and the corrections it applied (their
    event ids in the webhook log)."""

    checked: int = 0
    corrected: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.checked} checked against Stripe, {len(self.corrected)} corrected"


def _event(event_id: str, type_: str, obj: StripeDict) -> StripeDict:
    return {
        "id": event_id,
        "object": "event",
        "type": type_,
        "created": int(timezone.now().timestamp()),
        "data": {"object": obj},
    }


def _apply(result: Reconciliation, event_id: str, type_: str, obj: StripeDict) -> None:
    """The missed event, processed as the webhook would have (once by its id: a run racing
    this one waits on the id's unique insert, then finds it done)."""
    if WebhookEvent.objects.filter(stripe_event_id=event_id).exists():
        return  # applied by an earlier run: nothing more for this one to do
    record, applied = webhooks.event_process_once(event=_event(event_id, type_, obj))
    if not applied:
        return  # a concurrent run applied it first
    result.corrected.append(event_id)
    logger.info("billing_reconcile: %s %s (%s)", type_, event_id, record.detail or record.outcome)


def _stamp(moment: datetime | None) -> str:
    return str(int(moment.timestamp())) if moment else "0"


def _invoice_event_type(stripe_invoice: StripeDict, local: Invoice | None) -> str | None:
    """The event a drifted invoice calls for, or None when ours already says the same."""
    status = stripe_invoice.get("status")
    if status == "paid":
        return None if local is not None and local.status == Invoice.Status.PAID else "invoice.paid"
    failed = status == "open" and int(stripe_invoice.get("attempt_count") or 0) > 0
    if failed and (local is None or local.payment_failed_at is None):
        return "invoice.payment_failed"
    if local is None or local.status != status:
        return "invoice.finalized"
    return None


def _invoice_reconcile(
    result: Reconciliation, client: Gateway, invoice_id: str, local: Invoice | None
) -> None:
    try:
        stripe_invoice = client.invoice_retrieve(invoice_id)
    except StripeRefused as refusal:
        logger.warning("billing_reconcile: invoice %s: %s", invoice_id, refusal.message)
        return
    result.checked += 1
    type_ = _invoice_event_type(stripe_invoice, local)
    if type_ is not None:
        state = type_.split(".")[1]
        _apply(result, f"reconcile:{invoice_id}:{state}", type_, stripe_invoice)


def department_reconcile(*, department: Department, client: Gateway) -> Reconciliation:
    """Compare the department's live billing objects with Stripe and apply what was missed:
    a Checkout paid but never linked, a subscription whose status moved on (renewed, past due,
    cancelled), an invoice paid or failed, a license paid. Idempotent: a second run finds
    nothing left to correct. Stripe being unreachable stops the run (StripeUnavailable) and the
    next one carries on."""
    result = Reconciliation()
    now = timezone.now()
    # Checkouts completed at Stripe that our subscription never heard of.
    unlinked = Subscription.objects.filter(
        department=department,
        status=Subscription.Status.CHECKOUT,
        stripe_subscription_id__isnull=True,
        checkout_session_id__isnull=False,
        created_at__gte=now - CHECKOUT_LOOKBACK,
    )
    for subscription in unlinked:
        assert subscription.checkout_session_id is not None
        try:
            session = client.checkout_session_retrieve(subscription.checkout_session_id)
        except StripeRefused as refusal:
            logger.warning("billing_reconcile: checkout %s: %s", subscription.pk, refusal.message)
            continue
        result.checked += 1
        if session.get("status") == "complete" and session.get("subscription"):
            _apply(
                result,
                f"reconcile:{session['id']}:completed",
                "checkout.session.completed",
                session,
            )
    # Live subscriptions: their state, and their latest invoice (a renewal we never saw).
    live = Subscription.objects.filter(
        department=department, stripe_subscription_id__isnull=False
    ).exclude(status__in=Subscription.ENDED_STATUSES)
    for subscription in live:
        assert subscription.stripe_subscription_id is not None
        try:
            stripe_subscription = client.subscription_retrieve(subscription.stripe_subscription_id)
        except StripeRefused as refusal:
            logger.warning(
                "billing_reconcile: subscription %s: %s", subscription.pk, refusal.message
            )
            continue
        result.checked += 1
        if (
            stripe_subscription.get("status") != subscription.status
            or bool(stripe_subscription.get("cancel_at_period_end"))
            != subscription.cancel_at_period_end
            or subscription_period_end(stripe_subscription) != subscription.current_period_end
        ):
            # Keyed by the state it corrects: a later drift of the same subscription is new.
            _apply(
                result,
                f"reconcile:{stripe_subscription['id']}:{stripe_subscription.get('status')}:"
                f"{_stamp(subscription.stripe_state_at)}",
                "customer.subscription.updated",
                stripe_subscription,
            )
        latest = stripe_subscription.get("latest_invoice")
        latest_id = latest.get("id") if isinstance(latest, dict) else latest
        if latest_id and not Invoice.objects.filter(stripe_invoice_id=latest_id).exists():
            _invoice_reconcile(result, client, str(latest_id), None)
    # Invoices we hold as draft or open, and licenses not paid yet.
    pending = Invoice.objects.filter(department=department, status__in=OPEN_INVOICE)
    license_invoices = (
        License.objects.filter(department=department, stripe_invoice_id__isnull=False)
        .filter(Q(status__in=[License.Status.OPEN, License.Status.OVERDUE, License.Status.DRAFT]))
        .exclude(stripe_invoice_id__in=pending.values("stripe_invoice_id"))
        .values_list("stripe_invoice_id", flat=True)
    )
    for invoice in pending:
        _invoice_reconcile(result, client, invoice.stripe_invoice_id, invoice)
    for invoice_id in license_invoices:
        assert invoice_id is not None
        local = Invoice.objects.filter(stripe_invoice_id=invoice_id).first()
        _invoice_reconcile(result, client, invoice_id, local)
    return result
