"""Billing's HTTP endpoints: Stripe's webhook (on the platform host only)."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing.gateway import (
    Gateway,
    PaymentsNotConfigured,
    StripeUnavailable,
    WebhookRefused,
    webhooks_configured,
)
from billing.webhooks import event_is_well_formed, event_process

logger = logging.getLogger(__name__)
# What a 503 asks of Stripe (Stripe keeps its own schedule of retries; this is a hint).
WEBHOOK_RETRY_AFTER_SECONDS = 60


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Verify the signature on the raw body, then process the event once. 400 (nothing
    recorded) for anything that is not a signed, fresh Stripe event; 500 (nothing recorded)
    when Stripe could not be asked for the current state, and 503 with Retry-After when the
    database does not answer (the event's transaction never committed), so that Stripe
    delivers it again; the event's id makes that delivery apply it once."""
    if not webhooks_configured():
        return _plain("Webhooks are not configured on this installation.", 400)
    try:
        event = Gateway.webhook_event(request.body, request.headers.get("Stripe-Signature"))
    except WebhookRefused as refusal:
        return _plain(str(refusal), 400)
    if not event_is_well_formed(event):
        return _plain("The body is not a Stripe event.", 400)
    try:
        record = event_process(event=event)
    except StripeUnavailable:
        return _plain("Stripe did not answer; deliver this event again later.", 500)
    except PaymentsNotConfigured:
        return _plain("Payments are not configured on this installation.", 503)
    except DatabaseError:
        # The database went away while the event was processed: its transaction rolled back
        # (or never began), so nothing was recorded and Stripe's next delivery applies it.
        logger.warning("stripe_webhook %s: the database did not answer; 503", event["id"])
        answer = _plain("The database did not answer; deliver this event again later.", 503)
        answer["Retry-After"] = str(WEBHOOK_RETRY_AFTER_SECONDS)
        return answer
    return _plain(record.outcome, 200)
