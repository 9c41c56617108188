"""Refunds and cancellations Stripe did not answer (billing.models.StripeRetry), tried again by
the billing_stripe_retries job until Stripe applies them: each attempt sends the SAME idempotency
key, so an attempt that reached Stripe and lost only its answer is replayed by Stripe, never
done twice; each failed attempt waits twice as long as the one before (30 s, 1 min, 2 min, ...
up to an hour). Stripe forgets a key after 24 hours: a retry still pending after
KEY_LIFETIME is no longer sent blindly; it fails with an alert for billing staff to check
Stripe by hand."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from billing.actions import cancel_record, refund_params, refund_record
from billing.gateway import (
    PaymentsNotConfigured,
    StripeDict,
    StripeRefused,
    StripeUnavailable,
    gateway,
)
from billing.models import Alert, StripeRetry
from billing.services import history
from tenants.models import Department

logger = logging.getLogger(__name__)

RETRY_FIRST_SECONDS = 30
RETRY_MAX_SECONDS = 3600
# Stripe keeps an idempotency key's answer for at least 24 hours: past that, the same key no
# longer guarantees one refund, so the retry stops an hour short of it.
KEY_LIFETIME = timedelta(hours=23)


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return timedelta(
        seconds=min(RETRY_FIRST_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS)
    )


@dataclass
class RetryRun:
    applied: int = 0
    still_pending: int = 0
    failed: int = 0

    def __str__(self) -> str:
        return f"{self.applied} applied, {self.still_pending} still pending, {self.failed} failed"


def retries_run(*, department: Department, now: datetime | None = None) -> RetryRun:
    """Every retry of `department` whose time has come, tried once each."""
    now = now or timezone.now()
    run = RetryRun()
    due = StripeRetry.objects.filter(
        department=department, state=StripeRetry.State.PENDING, next_attempt_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due):
        outcome = retry_attempt(pk, now=now)
        if outcome == StripeRetry.State.DONE:
            run.applied += 1
        elif outcome == StripeRetry.State.FAILED:
            run.failed += 1
        elif outcome == StripeRetry.State.PENDING:
            run.still_pending += 1
    return run


def retry_attempt(pk: int, *, now: datetime | None = None) -> str | None:
    """One attempt at a due retry: its state afterwards (None when another worker holds it or
    it is not due). The row is claimed (its next attempt moved on) before Stripe is asked, and
    no row is locked while Stripe answers."""
    now = now or timezone.now()
    with transaction.atomic():
        retry = (
            StripeRetry.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("subscription", "invoice", "department")
            .filter(pk=pk, state=StripeRetry.State.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if retry is None:
            return None
        if now - retry.created_at > KEY_LIFETIME:
            _failed(
                retry,
                "Stripe did not answer for a day; its idempotency key expires, so it is not "
                "sent again. Check in Stripe's dashboard whether it happened, and act by hand.",
            )
            return StripeRetry.State.FAILED
        retry.attempts += 1
        retry.next_attempt_at = now + backoff(retry.attempts)
        retry.save(update_fields=["attempts", "next_attempt_at"])
    try:
        answer = _ask_stripe(retry)
    except (StripeUnavailable, PaymentsNotConfigured) as error:
        cause = f"{error.__class__.__name__}: {error.__cause__ or error}"[:500]
        StripeRetry.objects.filter(pk=retry.pk).update(last_error=cause)
        logger.warning(
            "stripe_retry %s %s attempt %d: Stripe did not answer (%s); next at %s",
            retry.kind,
            retry.idempotency_key,
            retry.attempts,
            cause,
            retry.next_attempt_at.isoformat(),
        )
        return StripeRetry.State.PENDING
    except StripeRefused as refusal:
        with transaction.atomic():
            _failed(StripeRetry.objects.select_for_update().get(pk=retry.pk), refusal.message)
        return StripeRetry.State.FAILED
    with transaction.atomic():
        locked = StripeRetry.objects.select_for_update().get(pk=retry.pk)
        if locked.state != StripeRetry.State.PENDING:
            return str(locked.state)
        if retry.kind == StripeRetry.Kind.REFUND:
            assert retry.invoice is not None
            refund_record(
                invoice=retry.invoice,
                refund=answer,
                key=retry.idempotency_key,
                actor_email=retry.actor_email,
                reason=retry.reason,
            )
        else:
            cancel_record(
                subscription=retry.subscription,
                ended=answer,
                actor_email=retry.actor_email,
                reason=retry.reason,
            )
        locked.state = StripeRetry.State.DONE
        locked.applied_at = timezone.now()
        locked.stripe_object_id = str(answer.get("id") or "")[:255]
        locked.last_error = ""
        locked.save(update_fields=["state", "applied_at", "stripe_object_id", "last_error"])
    logger.info(
        "stripe_retry %s %s applied after %d attempts",
        retry.kind,
        retry.idempotency_key,
        retry.attempts,
    )
    return StripeRetry.State.DONE


def _ask_stripe(retry: StripeRetry) -> StripeDict:
    """The same request as the first attempt, with the same key."""
    stripe = gateway()
    if retry.kind == StripeRetry.Kind.REFUND:
        assert retry.invoice is not None and retry.amount is not None
        return stripe.refund_create(
            refund_params(retry.invoice, retry.amount, retry.actor_email),
            idempotency_key=retry.idempotency_key,
        )
    stripe_id = retry.subscription.stripe_subscription_id
    assert stripe_id, "a queued cancellation names a subscription live at Stripe"
    try:
        return stripe.subscription_cancel(stripe_id, idempotency_key=retry.idempotency_key)
    except StripeRefused:
        # Stripe keeps no answer to a key on a cancellation: an earlier attempt that reached
        # it leaves the subscription cancelled, and cancelling again is refused. Stripe's
        # current state says whether it is done.
        current = stripe.subscription_retrieve(stripe_id)
        if current.get("status") == "canceled":
            return current
        raise


def _failed(retry: StripeRetry, message: str) -> None:
    retry.state = StripeRetry.State.FAILED
    retry.last_error = message[:500]
    retry.save(update_fields=["state", "last_error"])
    what = retry.get_kind_display().lower()
    history(
        retry.subscription,
        f"{retry.kind}_failed",
        actor_email=retry.actor_email,
        reason=retry.reason,
        amount=retry.amount,
        detail=f"The pending {what} was not applied: {message}; key {retry.idempotency_key}",
    )
    Alert.objects.create(
        kind=Alert.Kind.STRIPE_FAILURE,
        department=retry.department,
        subscription=retry.subscription,
        message=f"A pending {what} was not applied ({retry.idempotency_key}): {message}"[:500],
    )
    logger.error("stripe_retry %s %s failed: %s", retry.kind, retry.idempotency_key, message)
