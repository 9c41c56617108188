"""The one Stripe gateway: every call to Stripe goes through here, through the official SDK's
`StripeClient` (its v1 services), with the API version pinned and an idempotency key on every
call that creates something. No other module imports `stripe`.

Tests and benchmarks inject a transport (billing.fake_stripe.FakeStripe) in place of the
network: the SDK still builds every request and parses every answer, so what the code reads has
the shape Stripe really sends."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import stripe
from django.conf import settings
from django.utils.translation import gettext_lazy as _

# The API version the code is written against (the SDK's own pin, stated so an SDK upgrade
# cannot change what Stripe sends without a change here).
API_VERSION = "2026-10-28.endive"
# How long one Stripe request may take before it counts as unanswered, and how many times the
# SDK tries again (with its own backoff and the same idempotency key) before the owner or the
# console is told to try again. The worst case (two tries and the SDK's backoff, about 17 s)
# stays inside gunicorn's 30 s worker timeout, so the owner sees the "try again" page, never a
# worker killed mid-request.
TIMEOUT_SECONDS = 8
MAX_NETWORK_RETRIES = 1
StripeDict = dict[str, Any]


class PaymentsNotConfigured(Exception):
    """This installation has no Stripe key: payments are off (the demo, a laptop)."""

    message = _("Payments are not configured on this installation.")


class StripeUnavailable(Exception):
    """Stripe could not be reached or did not answer in time; nothing was changed here."""

    message = _("The payment service did not answer. Nothing was charged; please try again.")


class StripeRefused(Exception):
    """Stripe refused the request (an invalid amount, a card declined, an unknown id)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class WebhookRefused(Exception):
    """A webhook whose signature, timestamp or body cannot be trusted."""


class Transport(Protocol):
    """What answers the SDK's HTTP requests in place of Stripe's servers (tests, benchmarks)."""

    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: str | None
    ) -> tuple[str, int, Mapping[str, str]]: ...


class TransportTimeout(Exception):
    """Raised by a Transport to act out a request that never got an answer."""


class _InjectedHTTPClient(stripe.HTTPClient):
    name = "canvass-injected"

    def __init__(self, transport: Transport) -> None:
        super().__init__()
        self.transport = transport

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        try:
            return self.transport.request(method, url, headers or {}, post_data)
        except TransportTimeout as error:
            raise stripe.APIConnectionError("Request timed out", should_retry=False) from error

    def close(self) -> None:
        pass


_injected_everywhere: list[Transport] = []


@contextmanager
def transport_injected(transport: Transport) -> Iterator[Transport]:
    """Answer every Stripe call made in this block (in any thread) from `transport`."""
    _injected_everywhere.append(transport)
    try:
        yield transport
    finally:
        _injected_everywhere.remove(transport)


def _transport() -> Transport | None:
    return _injected_everywhere[-1] if _injected_everywhere else None


def payments_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY) or _transport() is not None


def webhooks_configured() -> bool:
    return bool(settings.STRIPE_WEBHOOK_SECRET)


def _plain(obj: Any) -> StripeDict:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


class Gateway:
    """Stripe's v1 services, narrowed to what Canvass does, answering plain dicts."""

    def __init__(self) -> None:
        transport = _transport()
        if transport is not None:
            self.client = stripe.StripeClient(
                "sk_test_canvass_injected",
                stripe_version=API_VERSION,
                http_client=_InjectedHTTPClient(transport),
                max_network_retries=0,
            )
        elif settings.STRIPE_SECRET_KEY:
            self.client = stripe.StripeClient(
                settings.STRIPE_SECRET_KEY,
                stripe_version=API_VERSION,
                http_client=stripe.new_default_http_client(timeout=TIMEOUT_SECONDS),
                max_network_retries=MAX_NETWORK_RETRIES,
            )
        else:
            raise PaymentsNotConfigured

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except stripe.APIConnectionError as error:
            raise StripeUnavailable from error
        except stripe.RateLimitError as error:
            raise StripeUnavailable from error
        except stripe.APIError as error:
            raise StripeUnavailable from error
        except stripe.StripeError as error:
            raise StripeRefused(
                error.user_message or str(error), getattr(error, "code", "") or ""
            ) from error

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> StripeDict:
        with self._errors():
            return _plain(method(*args, **kwargs))

    @staticmethod
    def _creating(idempotency_key: str) -> dict[str, Any]:
        if not idempotency_key:
            raise ValueError("Every creating call to Stripe needs an idempotency key.")
        return {"idempotency_key": idempotency_key}

    # Catalog
    def product_retrieve(self, product_id: str) -> StripeDict | None:
        try:
            return self._call(self.client.v1.products.retrieve, product_id)
        except StripeRefused as error:
            if error.code == "resource_missing":
                return None
            raise

    def product_create(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        return self._call(self.client.v1.products.create, params, self._creating(idempotency_key))

    def product_update(self, product_id: str, params: StripeDict) -> StripeDict:
        return self._call(self.client.v1.products.update, product_id, params)

    def prices_by_lookup_keys(self, lookup_keys: list[str]) -> list[StripeDict]:
        with self._errors():
            page = self.client.v1.prices.list(
                {"lookup_keys": lookup_keys, "active": True, "limit": 100}
            )
            return [_plain(price) for price in page.data]

    def price_create(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        return self._call(self.client.v1.prices.create, params, self._creating(idempotency_key))

    def price_archive(self, price_id: str) -> StripeDict:
        return self._call(self.client.v1.prices.update, price_id, {"active": False})

    # Customers, Checkout and the customer portal
    def customer_create(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        return self._call(self.client.v1.customers.create, params, self._creating(idempotency_key))

    def checkout_session_create(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        return self._call(
            self.client.v1.checkout.sessions.create, params, self._creating(idempotency_key)
        )

    def checkout_session_retrieve(self, session_id: str) -> StripeDict:
        return self._call(self.client.v1.checkout.sessions.retrieve, session_id)

    def checkout_session_expire(self, session_id: str) -> StripeDict:
        return self._call(self.client.v1.checkout.sessions.expire, session_id)

    def portal_session_create(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        return self._call(
            self.client.v1.billing_portal.sessions.create, params, self._creating(idempotency_key)
        )

    # Subscriptions
    def subscription_retrieve(self, subscription_id: str) -> StripeDict:
        return self._call(self.client.v1.subscriptions.retrieve, subscription_id)

    def subscription_update(self, subscription_id: str, params: StripeDict) -> StripeDict:
        return self._call(self.client.v1.subscriptions.update, subscription_id, params)

    def subscription_cancel(
        self, subscription_id: str, *, idempotency_key: str | None = None
    ) -> StripeDict:
        """Cancel now. A queued cancellation (billing.actions.StripeRetry) sends its key on
        every attempt; Stripe answers an already-cancelled subscription with a refusal, which
        the retry reads as done (billing.retries)."""
        if idempotency_key is None:
            return self._call(self.client.v1.subscriptions.cancel, subscription_id)
        options = self._creating(idempotency_key)
        return self._call(self.client.v1.subscriptions.cancel, subscription_id, None, options)

    # Invoices, charges, refunds
    def invoice_retrieve(self, invoice_id: str) -> StripeDict:
        return self._call(self.client.v1.invoices.retrieve, invoice_id)

    def invoice_create(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        return self._call(self.client.v1.invoices.create, params, self._creating(idempotency_key))

    def invoice_item_create(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        return self._call(
            self.client.v1.invoice_items.create, params, self._creating(idempotency_key)
        )

    def invoice_update(self, invoice_id: str, params: StripeDict) -> StripeDict:
        return self._call(self.client.v1.invoices.update, invoice_id, params)

    def invoice_delete(self, invoice_id: str) -> StripeDict:
        """Delete a draft invoice (Stripe deletes only drafts)."""
        return self._call(self.client.v1.invoices.delete, invoice_id)

    def invoice_finalize(self, invoice_id: str) -> StripeDict:
        return self._call(self.client.v1.invoices.finalize_invoice, invoice_id)

    def invoice_send(self, invoice_id: str) -> StripeDict:
        return self._call(self.client.v1.invoices.send_invoice, invoice_id)

    def charge_retrieve(self, charge_id: str) -> StripeDict:
        return self._call(self.client.v1.charges.retrieve, charge_id)

    def refund_create(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        return self._call(self.client.v1.refunds.create, params, self._creating(idempotency_key))

    def payment_intent_create(self, params: StripeDict, *, idempotency_key: str) -> StripeDict:
        """A payment outside Checkout (the test-mode check charges pm_card_visa this way)."""
        return self._call(
            self.client.v1.payment_intents.create, params, self._creating(idempotency_key)
        )

    # Webhooks
    @staticmethod
    def webhook_event(payload: bytes, signature: str | None) -> StripeDict:
        """The event in a webhook's raw body, once its signature and timestamp are verified
        against STRIPE_WEBHOOK_SECRET (WebhookRefused otherwise)."""
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            raise WebhookRefused("Webhooks are not configured on this installation.")
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError as error:
            raise WebhookRefused("The body is not UTF-8.") from error
        try:
            stripe.WebhookSignature.verify_header(
                text, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
        except stripe.SignatureVerificationError as error:
            raise WebhookRefused(str(error).split("\n")[0] or "Bad signature.") from error
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise WebhookRefused("The body is not a JSON event.") from error
        if not isinstance(parsed, dict):
            raise WebhookRefused("The body is not a JSON event.")
        # The verified JSON as it is: the SDK's construct_event would build StripeObjects only
        # for _plain to turn them back into dicts (most of a webhook's time), and crashes on a
        # JSON list. The caller checks the event's shape.
        return parsed


def gateway() -> Gateway:
    """The gateway for this call (PaymentsNotConfigured when this installation has no key)."""
    return Gateway()
