"""What vendor staff do from the billing console: refunds, cancellations, complimentary periods,
the device fulfilment steps and resolving alerts. Each is a keyword-only verb that checks
everything it can first, then calls Stripe (outside any transaction, so that no row is locked
while Stripe answers), then records the outcome in one transaction, with a history line naming
who did it and why. When Stripe refuses, nothing is recorded. When Stripe does not answer (a
timeout, a 5xx) a refund or a cancellation is not lost: it is queued as a StripeRetry, pending,
and billing.retries tries it again with the same idempotency key until Stripe applies it."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from billing.gateway import (
    Gateway,
    PaymentsNotConfigured,
    StripeDict,
    StripeRefused,
    StripeUnavailable,
    gateway,
)
from billing.models import (
    Alert,
    Fulfilment,
    Invoice,
    StripeRetry,
    Subscription,
    SubscriptionEvent,
)
from billing.money import money
from billing.services import from_timestamp, history, subscription_state_apply

COMPLIMENTARY_MONTHS_MAX = 24
# A refund form's one-time token (secrets.token_urlsafe): it names the refund at Stripe.
FORM_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


class ActionRefused(Exception):
    """The action was not done; `message` tells vendor staff why (nothing was recorded).
    `stripe_refused`: Stripe answered no, so a retry needs a new idempotency key (Stripe keeps
    its answer to a key); after a timeout the same key is what makes a retry safe."""

    def __init__(self, message: str, *, stripe_refused: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.stripe_refused = stripe_refused


class ActionPending(Exception):
    """Stripe did not answer: the action is queued (`retry`, pending) and is applied once Stripe
    answers again, by billing.retries with the same idempotency key. Nothing else to do."""

    def __init__(self, retry: StripeRetry) -> None:
        what = "refund" if retry.kind == StripeRetry.Kind.REFUND else "cancellation"
        message = (
            f"Stripe did not answer, so the {what} is pending: it is tried again automatically "
            "(with the same key, so it cannot happen twice) and applied as soon as Stripe answers."
        )
        super().__init__(message)
        self.message = message
        self.retry = retry


def months_later(moment: datetime, months: int) -> datetime:
    """The same day and time `months` months on (the month's last day when it is shorter)."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _reason(reason: str) -> str:
    reason = " ".join(reason.split())
    if not reason:
        raise ActionRefused("Say why (the reason is kept in the subscription's history).")
    if len(reason) > 500:
        raise ActionRefused("Keep the reason under 500 characters.")
    return reason


def _stripe(
    call: Callable[[Gateway], StripeDict],
    undone: str,
    *,
    queue: Callable[[StripeUnavailable], StripeRetry] | None = None,
) -> StripeDict:
    """Stripe's answer, or ActionRefused saying what happened (and that nothing was `undone`);
    with `queue`, Stripe not answering queues the action instead (ActionPending)."""
    try:
        return call(gateway())
    except PaymentsNotConfigured as error:
        raise ActionRefused(f"{error.message} Nothing was {undone}.") from error
    except StripeUnavailable as error:
        if queue is not None:
            raise ActionPending(queue(error)) from error
        raise ActionRefused(
            f"Stripe did not answer in time, so nothing was {undone} here. Try again: the same "
            "form cannot act twice at Stripe."
        ) from error
    except StripeRefused as error:
        raise ActionRefused(
            f"Stripe refused: {error.message} Nothing was {undone}.", stripe_refused=True
        ) from error


def _live_at_stripe(subscription: Subscription) -> str:
    if not subscription.stripe_subscription_id:
        raise ActionRefused("This subscription never started at Stripe (its checkout is open).")
    if subscription.is_ended:
        raise ActionRefused(f"This subscription has already ended ({subscription.status}).")
    return subscription.stripe_subscription_id


def invoice_refund(
    *,
    invoice: Invoice,
    amount: int | None,
    form_token: str,
    actor_email: str,
    reason: str,
) -> SubscriptionEvent:
    """Refund `amount` cents of a paid invoice (all that is left when None). The refund's
    idempotency key names the invoice and the form's token: the same form submitted twice
    refunds once at Stripe and is recorded once. When Stripe does not answer, the refund is
    queued (ActionPending) and retried with that same key."""
    reason = _reason(reason)
    if not FORM_TOKEN.fullmatch(form_token):
        raise ActionRefused("This form is out of date. Reload the page and try again.")
    subscription = invoice.subscription
    if subscription is None:
        raise ActionRefused("Only device subscription invoices are refunded here.")
    key = f"canvass-refund-{invoice.stripe_invoice_id}-{form_token}"
    done = _refund_done(subscription, key)
    if done is not None:
        return done
    queued = StripeRetry.objects.filter(
        idempotency_key=key, state=StripeRetry.State.PENDING
    ).first()
    if queued is not None:
        # The same form sent again while its refund is pending: ask Stripe again now, with
        # the same amount, author and key (what the retry job would do at its next turn:
        # Stripe refuses a key sent again with other parameters).
        amount, actor_email = queued.amount, queued.actor_email
    elif not invoice.payment_intent_id:
        raise ActionRefused(f"Invoice {invoice} has no payment to refund.")
    else:
        amount = _refund_amount(invoice, amount)
    assert amount is not None
    refund = _stripe(
        lambda stripe: stripe.refund_create(
            refund_params(invoice, amount, actor_email), idempotency_key=key
        ),
        "refunded",
        queue=lambda error: _queued(
            kind=StripeRetry.Kind.REFUND,
            subscription=subscription,
            invoice=invoice,
            key=key,
            amount=amount,
            actor_email=actor_email,
            reason=reason,
            error=error,
        ),
    )
    return refund_record(
        invoice=invoice, refund=refund, key=key, actor_email=actor_email, reason=reason
    )


def _refund_amount(invoice: Invoice, amount: int | None) -> int:
    """The amount to refund, checked against what is paid, refunded and pending."""
    pending = refunds_pending(invoice)
    refundable = max(invoice.refundable - pending, 0)
    amount = refundable if amount is None else amount
    if refundable <= 0:
        raise ActionRefused(
            f"Invoice {invoice} has nothing left to refund"
            + (" (a refund of it is pending)." if pending else ".")
        )
    if amount <= 0:
        raise ActionRefused("Enter an amount above zero, or leave it empty to refund everything.")
    if amount > refundable:
        raise ActionRefused(
            f"At most {money(refundable, invoice.currency)} of invoice {invoice} can be "
            f"refunded (paid {money(invoice.amount_paid, invoice.currency)}, already refunded "
            f"{money(invoice.amount_refunded, invoice.currency)}"
            + (f", pending {money(pending, invoice.currency)}" if pending else "")
            + f"); {money(amount, invoice.currency)} was asked. Nothing was refunded."
        )
    return amount


def refund_params(invoice: Invoice, amount: int, actor_email: str) -> StripeDict:
    """What a refund asks Stripe: the same on every attempt (Stripe refuses a key reused with
    other parameters)."""
    return {
        "payment_intent": invoice.payment_intent_id,
        "amount": amount,
        "reason": "requested_by_customer",
        "metadata": {
            "invoice": invoice.stripe_invoice_id,
            "subscription": str(invoice.subscription_id),
            "by": actor_email,
        },
    }


def refunds_pending(invoice: Invoice) -> int:
    """Cents of this invoice whose refund is queued, not yet applied."""
    return sum(
        retry.amount or 0
        for retry in invoice.stripe_retries.filter(
            kind=StripeRetry.Kind.REFUND, state=StripeRetry.State.PENDING
        )
    )


def refund_record(
    *, invoice: Invoice, refund: StripeDict, key: str, actor_email: str, reason: str
) -> SubscriptionEvent:
    """The refund Stripe made, recorded once (by its key) on the invoice and in the history."""
    subscription = invoice.subscription
    assert subscription is not None
    with transaction.atomic():
        locked = Invoice.objects.select_for_update().get(pk=invoice.pk)
        done = _refund_done(subscription, key)
        if done is not None:  # the same form, submitted twice at once
            return done
        locked.amount_refunded += refund["amount"]
        locked.save(update_fields=["amount_refunded"])
        _retry_applied(key, refund)
        return history(
            subscription,
            "refund",
            actor_email=actor_email,
            reason=reason,
            amount=refund["amount"],
            detail=f"Refund {refund['id']} of invoice {locked}; key {key}",
        )


def _refund_done(subscription: Subscription, key: str) -> SubscriptionEvent | None:
    return subscription.events.filter(kind="refund", detail__endswith=f"key {key}").first()


def cancel_key(stripe_subscription_id: str) -> str:
    """A subscription is cancelled at Stripe once: its key names it."""
    return f"canvass-cancel-{stripe_subscription_id}"


def _queued(
    *,
    kind: str,
    subscription: Subscription,
    invoice: Invoice | None,
    key: str,
    amount: int | None,
    actor_email: str,
    reason: str,
    error: Exception,
) -> StripeRetry:
    """The action kept as pending (one row per key), with a history line saying so."""
    from billing.retries import backoff

    cause = f"{error.__class__.__name__}: {error.__cause__ or error}"[:500]
    with transaction.atomic():
        retry, created = StripeRetry.objects.get_or_create(
            idempotency_key=key,
            defaults={
                "kind": kind,
                "department": subscription.department,
                "subscription": subscription,
                "invoice": invoice,
                "amount": amount,
                "actor_email": actor_email,
                "reason": reason,
                "last_error": cause,
                "next_attempt_at": timezone.now() + backoff(1),
            },
        )
        if created:
            history(
                subscription,
                f"{kind}_pending",
                actor_email=actor_email,
                reason=reason,
                amount=amount,
                detail=f"Stripe did not answer ({cause}); retried with key {key}",
            )
    return retry


def cancel_queue(
    *, subscription: Subscription, actor_email: str, reason: str, error: Exception
) -> StripeRetry:
    """A cancellation Stripe did not answer, kept as pending (the opt-out uses it too)."""
    stripe_id = subscription.stripe_subscription_id
    assert stripe_id, "only a subscription live at Stripe is cancelled there"
    return _queued(
        kind=StripeRetry.Kind.CANCEL,
        subscription=subscription,
        invoice=None,
        key=cancel_key(stripe_id),
        amount=None,
        actor_email=actor_email,
        reason=reason,
        error=error,
    )


def _retry_applied(key: str, answer: StripeDict) -> None:
    """A queued action with this key, applied now (by its retry or by staff sending it again)."""
    StripeRetry.objects.filter(idempotency_key=key, state=StripeRetry.State.PENDING).update(
        state=StripeRetry.State.DONE,
        applied_at=timezone.now(),
        stripe_object_id=str(answer.get("id") or "")[:255],
        last_error="",
    )


def cancel_record(
    *, subscription: Subscription, ended: StripeDict, actor_email: str, reason: str
) -> Subscription:
    """The cancellation Stripe made, recorded (its queued retry, if any, marked applied)."""
    with transaction.atomic():
        _retry_applied(cancel_key(str(ended["id"])), ended)
        history(subscription, "cancelled_now", actor_email=actor_email, reason=reason)
        return subscription_state_apply(subscription=subscription, stripe_subscription=ended)


def subscription_cancel_now(
    *, subscription: Subscription, actor_email: str, reason: str
) -> Subscription:
    """End the subscription at Stripe now: the site returns to registered at once. When Stripe
    does not answer, the cancellation is queued (ActionPending) and retried with one key."""
    reason = _reason(reason)
    stripe_id = _live_at_stripe(subscription)
    key = cancel_key(stripe_id)
    ended = _stripe(
        lambda stripe: stripe.subscription_cancel(stripe_id, idempotency_key=key),
        "cancelled",
        queue=lambda error: cancel_queue(
            subscription=subscription, actor_email=actor_email, reason=reason, error=error
        ),
    )
    return cancel_record(
        subscription=subscription, ended=ended, actor_email=actor_email, reason=reason
    )


def subscription_cancel_at_period_end(
    *, subscription: Subscription, actor_email: str, reason: str
) -> Subscription:
    """Let the subscription run to the end of its paid period, then end (no renewal)."""
    reason = _reason(reason)
    stripe_id = _live_at_stripe(subscription)
    if subscription.cancel_at_period_end:
        raise ActionRefused("This subscription is already set to end with its paid period.")
    updated = _stripe(
        lambda stripe: stripe.subscription_update(stripe_id, {"cancel_at_period_end": True}),
        "changed",
    )
    with transaction.atomic():
        subscription = subscription_state_apply(
            subscription=subscription, stripe_subscription=updated
        )
        ends = subscription.current_period_end
        history(
            subscription,
            "cancel_at_period_end",
            actor_email=actor_email,
            reason=reason,
            detail=f"Ends {ends:%Y-%m-%d}" if ends else "",
        )
        return subscription


def subscription_complimentary(
    *,
    subscription: Subscription,
    months: int,
    actor_email: str,
    reason: str,
    now: datetime | None = None,
) -> Subscription:
    """No charge for the next `months` months (a Stripe trial until then); the subscription
    counts in no recurring revenue until it ends."""
    reason = _reason(reason)
    stripe_id = _live_at_stripe(subscription)
    if not 1 <= months <= COMPLIMENTARY_MONTHS_MAX:
        raise ActionRefused(f"Give between 1 and {COMPLIMENTARY_MONTHS_MAX} months.")
    until = months_later(now or timezone.now(), months).replace(microsecond=0)
    updated = _stripe(
        lambda stripe: stripe.subscription_update(
            stripe_id, {"trial_end": int(until.timestamp()), "proration_behavior": "none"}
        ),
        "changed",
    )
    with transaction.atomic():
        subscription = subscription_state_apply(
            subscription=subscription, stripe_subscription=updated
        )
        subscription.complimentary_until = from_timestamp(updated.get("trial_end")) or until
        subscription.save(update_fields=["complimentary_until", "updated_at"])
        history(
            subscription,
            "complimentary",
            actor_email=actor_email,
            reason=reason,
            detail=f"{months} month(s), until {subscription.complimentary_until:%Y-%m-%d}",
        )
        return subscription


def fulfilment_advance(
    *,
    fulfilment: Fulfilment,
    state: str,
    actor_email: str,
    reason: str = "",
    carrier: str = "",
    tracking_number: str = "",
    now: datetime | None = None,
) -> Fulfilment:
    """The device's next step, and only the next: ordered -> shipped (carrier and tracking
    number required) -> installed -> online."""
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    reason = " ".join(reason.split())[:500]
    now = now or timezone.now()
    with transaction.atomic():
        fulfilment = Fulfilment.objects.select_for_update().get(pk=fulfilment.pk)
        order = list(Fulfilment.ORDER)
        if fulfilment.state not in order or fulfilment.state == order[-1]:
            raise ActionRefused(
                f"This device is {fulfilment.get_state_display().lower()}: nothing comes next."
            )
        following = order[order.index(Fulfilment.State(fulfilment.state)) + 1]
        if state != following:
            raise ActionRefused(
                f"This device is {fulfilment.get_state_display().lower()}; the next step is "
                f"{following.label.lower()}, not {state or 'nothing'}."
            )
        detail = ""
        if state == Fulfilment.State.SHIPPED:
            if not carrier or not tracking_number:
                raise ActionRefused("Give the carrier and the tracking number of the shipment.")
            if len(carrier) > 60 or len(tracking_number) > 80:
                raise ActionRefused(
                    "Keep the carrier under 60 characters and the tracking number under 80."
                )
            fulfilment.carrier, fulfilment.tracking_number = carrier, tracking_number
            fulfilment.shipped_at = now
            detail = f"{carrier} {tracking_number}"
        elif state == Fulfilment.State.INSTALLED:
            fulfilment.installed_at = now
        else:
            fulfilment.online_at = now
        fulfilment.state = state
        fulfilment.save()
        history(
            fulfilment.subscription,
            f"fulfilment:{state}",
            actor_email=actor_email,
            reason=reason,
            detail=detail,
        )
        return fulfilment


def alert_resolve(*, alert: Alert, actor_email: str, reason: str) -> Alert:
    """Mark an alert dealt with, by whom and how (in its subscription's history when it has
    one)."""
    reason = _reason(reason)
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.resolved_at is not None:
            raise ActionRefused(f"This alert was already resolved by {alert.resolved_by}.")
        alert.resolve(by=actor_email)
        alert.save(update_fields=["resolved_at", "resolved_by"])
        if alert.subscription is not None:
            history(
                alert.subscription,
                "alert_resolved",
                actor_email=actor_email,
                reason=reason,
                detail=alert.message,
            )
        return alert
