"""An in-memory Stripe for tests, benchmarks and the browser test: it answers the SDK's HTTP
requests (billing.gateway.transport_injected) with objects copied from Stripe's official example
objects (billing/stripe_examples.json, taken unchanged from stripe/openapi's fixtures3.json), ids,
amounts, statuses and metadata changed. It keeps what was created, honours idempotency keys the
way Stripe does (same key, same answer), refuses what Stripe refuses (a refund above what was
paid, an unknown id) and can act out failures (`fail_next`). It also plays the customer's side:
`checkout_complete` pays a Checkout session and returns the events Stripe would send.

It never imports `stripe` (billing.gateway is the only module that does)."""

from __future__ import annotations

import copy
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from billing.gateway import TransportTimeout

EXAMPLES: dict[str, Any] = json.loads(
    (Path(__file__).with_name("stripe_examples.json")).read_text()
)
YEAR_SECONDS = 365 * 24 * 3600
Obj = dict[str, Any]


def example(kind: str, **changes: Any) -> Obj:
    """A copy of Stripe's example object of that kind, with `changes` applied on top."""
    obj = copy.deepcopy(EXAMPLES[kind])
    obj.update(changes)
    return obj


def form_decode(text: str) -> Obj:
    """The nested params the SDK encodes as `a[b][0][c]=v` back into dicts and lists."""
    root: Obj = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _lists_made(root)


def _lists_made(node: Any) -> Any:
    # A dict keyed "0", "1", ... was a list.
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_lists_made(node[key]) for key in sorted(node, key=int)]
    return {key: _lists_made(value) for key, value in node.items()}


class FakeStripe:
    """Stripe's API as far as Canvass uses it, in memory (thread-safe)."""

    def __init__(self) -> None:
        self.objects: dict[str, Obj] = {}
        self.requests: list[tuple[str, str, Obj]] = []
        # Every request that reached "Stripe", answered or not: (method, path, idempotency key).
        self.attempts: list[tuple[str, str, str | None]] = []
        self.idempotent: dict[str, tuple[str, int]] = {}
        self.failures: list[tuple[str, str]] = []
        self.clock = int(time.time())
        self.lock = threading.RLock()
        # Seconds each answer takes (a slow network), outside the lock: concurrent callers overlap.
        self.latency = 0.0

    # -- what tests steer -------------------------------------------------------------------
    def fail_next(self, how: str = "timeout", on: str = "") -> None:
        """The next request times out ("timeout"), gets a 500 ("server"), a 503 ("unavailable"),
        is carried out but its answer is lost on the way back ("lost": the case an idempotency
        key exists for) or gets a card decline ("declined"); with `on`, the next request whose
        path starts with it (e.g. "/v1/checkout/sessions": the calls before it succeed)."""
        self.failures.append((how, on))

    def _failure_for(self, path: str) -> str | None:
        for index, (how, on) in enumerate(self.failures):
            if path.startswith(on):
                del self.failures[index]
                return how
        return None

    def keys_sent(self, method: str, path_start: str) -> list[str | None]:
        """The idempotency key of every attempt at `path_start`, failed ones included."""
        return [k for m, p, k in self.attempts if m == method and p.startswith(path_start)]

    def calls(self, method: str, path_start: str) -> list[Obj]:
        return [
            params for m, p, params in self.requests if m == method and p.startswith(path_start)
        ]

    def tick(self, seconds: int = 1) -> int:
        self.clock += seconds
        return self.clock

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(12)}"

    def event(self, type_: str, obj: Obj, previous: Obj | None = None) -> Obj:
        """An event as Stripe sends it, wrapping a snapshot of `obj`."""
        data: Obj = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        return example(
            "event",
            id=self.new_id("evt"),
            type=type_,
            created=self.tick(),
            api_version="2026-10-28.endive",
            data=data,
        )

    # -- the customer's side ----------------------------------------------------------------
    def checkout_complete(self, session_id: str) -> list[Obj]:
        """The owner pays: a customer (if the session had none), the subscription and its first
        invoice, paid. Returns the events Stripe would send, in Stripe's usual order."""
        with self.lock:
            session = self.objects[session_id]
            customer_id = (
                session["customer"]
                or self._customer({"email": session.get("customer_email") or "owner@example.com"})[
                    "id"
                ]
            )
            params = session["_params"]
            items = [
                item
                for item in params["line_items"]
                if self.objects[item["price"]]["type"] == "recurring"
            ]
            one_time = [
                item
                for item in params["line_items"]
                if self.objects[item["price"]]["type"] == "one_time"
            ]
            metadata = params.get("subscription_data", {}).get("metadata", {})
            subscription = self._subscription_new(customer_id, items, metadata)
            invoice = self._invoice_new(
                customer_id,
                subscription=subscription,
                lines=[self.objects[item["price"]] for item in one_time + items],
            )
            self._invoice_pay(invoice)
            subscription["latest_invoice"] = invoice["id"]
            session.update(
                customer=customer_id,
                subscription=subscription["id"],
                invoice=invoice["id"],
                status="complete",
                payment_status="paid",
            )
            return [
                self.event("checkout.session.completed", self._public(session)),
                self.event("customer.subscription.created", subscription),
                self.event("invoice.finalized", invoice),
                self.event("invoice.paid", invoice),
            ]

    def renewal_fails(self, subscription_id: str) -> list[Obj]:
        """The yearly renewal's card is declined: an open invoice and a past-due subscription."""
        with self.lock:
            subscription = self.objects[subscription_id]
            price = self.objects[subscription["items"]["data"][0]["price"]["id"]]
            invoice = self._invoice_new(
                subscription["customer"], subscription=subscription, lines=[price]
            )
            invoice.update(status="open", attempted=True, attempt_count=1)
            subscription["status"] = "past_due"
            subscription["latest_invoice"] = invoice["id"]
            return [
                self.event("invoice.payment_failed", invoice),
                self.event("customer.subscription.updated", subscription, {"status": "active"}),
            ]

    def renewal_paid(self, subscription_id: str) -> list[Obj]:
        with self.lock:
            subscription = self.objects[subscription_id]
            price = self.objects[subscription["items"]["data"][0]["price"]["id"]]
            invoice = self._invoice_new(
                subscription["customer"], subscription=subscription, lines=[price]
            )
            self._invoice_pay(invoice)
            for item in subscription["items"]["data"]:
                item["current_period_start"] = self.clock
                item["current_period_end"] = self.clock + YEAR_SECONDS
            subscription["status"] = "active"
            return [
                self.event("invoice.paid", invoice),
                self.event("customer.subscription.updated", subscription, {"status": "past_due"}),
            ]

    def subscription_ends(self, subscription_id: str, status: str = "canceled") -> list[Obj]:
        with self.lock:
            subscription = self.objects[subscription_id]
            subscription.update(status=status, canceled_at=self.tick(), ended_at=self.clock)
            kind = "deleted" if status == "canceled" else "updated"
            return [self.event(f"customer.subscription.{kind}", subscription)]

    def dispute(self, invoice_id: str) -> list[Obj]:
        with self.lock:
            invoice = self.objects[invoice_id]
            charge = self.objects[invoice["_charge"]]
            charge["disputed"] = True
            dispute = example(
                "dispute",
                id=self.new_id("dp"),
                amount=charge["amount"],
                charge=charge["id"],
                payment_intent=charge["payment_intent"],
                currency=charge["currency"],
                created=self.tick(),
                status="needs_response",
                reason="fraudulent",
            )
            self.objects[dispute["id"]] = dispute
            return [self.event("charge.dispute.created", dispute)]

    # -- the transport ----------------------------------------------------------------------
    def request(
        self, method: str, url: str, headers: Mapping[str, str], body: str | None
    ) -> tuple[str, int, Mapping[str, str]]:
        if self.latency:
            time.sleep(self.latency)
        with self.lock:
            key = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), None)
            self.attempts.append((method, urlsplit(url).path, key))
            how = self._failure_for(urlsplit(url).path)
            if how == "lost":
                self._answer(method, url, key, body)
                raise TransportTimeout(url)
            if how is not None:
                if how == "timeout":
                    raise TransportTimeout(url)
                if how == "server":
                    return self._error(500, "api_error", "An unexpected error occurred.")
                if how == "unavailable":
                    return self._error(503, "api_error", "The service is temporarily unavailable.")
                return self._error(
                    402, "card_error", "Your card was declined.", code="card_declined"
                )
            return self._answer(method, url, key, body)

    def _answer(
        self, method: str, url: str, key: str | None, body: str | None
    ) -> tuple[str, int, Mapping[str, str]]:
        """Stripe doing the request and answering (replaying its answer to a key it has seen)."""
        with self.lock:
            parts = urlsplit(url)
            params = form_decode(body or parts.query)
            self.requests.append((method, parts.path, params))
            if key and method == "post" and key in self.idempotent:
                text, status = self.idempotent[key]
                return text, status, {"idempotent-replayed": "true"}
            try:
                obj, status = self._route(method, parts.path, params), 200
                text = json.dumps(self._public(obj))
            except _Refusal as refusal:
                text, status, _ = self._error(
                    refusal.status, refusal.type, refusal.message, refusal.code
                )
            if key and method == "post":
                self.idempotent[key] = (text, status)
            return text, status, {"request-id": self.new_id("req")}

    @staticmethod
    def _error(
        status: int, type_: str, message: str, code: str = ""
    ) -> tuple[str, int, Mapping[str, str]]:
        error = {"type": type_, "message": message}
        if code:
            error["code"] = code
        return json.dumps({"error": error}), status, {}

    @staticmethod
    def _public(obj: Obj) -> Obj:
        return {key: value for key, value in obj.items() if not key.startswith("_")}

    def _get(self, object_id: str, kind: str) -> Obj:
        obj = self.objects.get(object_id)
        if obj is None or obj["object"] != kind:
            raise _Refusal(404, f"No such {kind}: '{object_id}'", code="resource_missing")
        return obj

    def _route(self, method: str, path: str, params: Obj) -> Obj:
        segments = path.strip("/").split("/")[1:]  # without "v1"
        match method, segments:
            case "get", ["products", product_id]:
                return self._get(product_id, "product")
            case "post", ["products"]:
                return self._product(params)
            case "post", ["products", product_id]:
                product = self._get(product_id, "product")
                product.update({k: v for k, v in params.items() if k != "metadata"})
                product["metadata"] = {**product["metadata"], **params.get("metadata", {})}
                return product
            case "get", ["prices"]:
                return self._price_list(params)
            case "post", ["prices"]:
                return self._price(params)
            case "post", ["prices", price_id]:
                price = self._get(price_id, "price")
                if "active" in params:
                    price["active"] = params["active"] == "true"
                return price
            case "post", ["customers"]:
                return self._customer(params)
            case "post", ["checkout", "sessions"]:
                return self._checkout_session(params)
            case "get", ["checkout", "sessions", session_id]:
                return self._get(session_id, "checkout.session")
            case "post", ["checkout", "sessions", session_id, "expire"]:
                session = self._get(session_id, "checkout.session")
                if session["status"] != "open":
                    raise _Refusal(400, "Only open sessions can be expired.")
                session["status"] = "expired"
                return session
            case "post", ["billing_portal", "sessions"]:
                self._get(params["customer"], "customer")
                return example(
                    "billing_portal.session",
                    id=self.new_id("bps"),
                    customer=params["customer"],
                    return_url=params.get("return_url"),
                    locale=params.get("locale"),
                    url=f"https://billing.stripe.com/p/session/test_{secrets.token_hex(8)}",
                    created=self.clock,
                )
            case "get", ["subscriptions", subscription_id]:
                return self._get(subscription_id, "subscription")
            case "post", ["subscriptions", subscription_id]:
                return self._subscription_update(self._get(subscription_id, "subscription"), params)
            case "delete", ["subscriptions", subscription_id]:
                subscription = self._get(subscription_id, "subscription")
                if subscription["status"] == "canceled":
                    raise _Refusal(400, "This subscription is already canceled.")
                subscription.update(status="canceled", canceled_at=self.tick(), ended_at=self.clock)
                return subscription
            case "get", ["invoices", invoice_id]:
                return self._get(invoice_id, "invoice")
            case "post", ["invoices"]:
                return self._invoice_draft(params)
            case "post", ["invoiceitems"]:
                return self._invoice_item(params)
            case "post", ["invoices", invoice_id]:
                invoice = self._get(invoice_id, "invoice")
                if invoice["status"] != "draft" and set(params) - {"metadata"}:
                    raise _Refusal(400, "Only a draft invoice's fields can be updated.")
                if "custom_fields" in params:
                    invoice["custom_fields"] = params["custom_fields"] or None
                invoice["metadata"] = {**invoice["metadata"], **params.get("metadata", {})}
                return invoice
            case "delete", ["invoices", invoice_id]:
                invoice = self._get(invoice_id, "invoice")
                if invoice["status"] != "draft":
                    raise _Refusal(400, "You can only delete draft invoices.")
                del self.objects[invoice_id]
                return {"id": invoice_id, "object": "invoice", "deleted": True}
            case "post", ["invoices", invoice_id, "finalize"]:
                invoice = self._get(invoice_id, "invoice")
                invoice.update(status="open", number=f"CANV-{len(self.objects):06d}")
                invoice["status_transitions"]["finalized_at"] = self.tick()
                invoice["hosted_invoice_url"] = f"https://invoice.stripe.com/i/{invoice_id}"
                invoice["invoice_pdf"] = f"https://pay.stripe.com/invoice/{invoice_id}/pdf"
                return invoice
            case "post", ["invoices", invoice_id, "send"]:
                return self._get(invoice_id, "invoice")
            case "get", ["charges", charge_id]:
                return self._get(charge_id, "charge")
            case "post", ["refunds"]:
                return self._refund(params)
            case "post", ["payment_intents"]:
                return self._payment_intent(params)
        raise _Refusal(404, f"Unrecognized request URL ({method.upper()}: {path}).")

    # -- the objects ------------------------------------------------------------------------
    def _store(self, obj: Obj) -> Obj:
        self.objects[obj["id"]] = obj
        return obj

    def _product(self, params: Obj) -> Obj:
        product_id = params.get("id") or self.new_id("prod")
        if product_id in self.objects:
            raise _Refusal(
                400, f"Product already exists: {product_id}", code="resource_already_exists"
            )
        return self._store(
            example(
                "product",
                id=product_id,
                name=params["name"],
                description=params.get("description"),
                metadata=params.get("metadata", {}),
                created=self.tick(),
                active=True,
            )
        )

    def _price_list(self, params: Obj) -> Obj:
        keys = params.get("lookup_keys", [])
        prices = [
            obj
            for obj in self.objects.values()
            if obj["object"] == "price"
            and obj["lookup_key"] in keys
            and (params.get("active") != "true" or obj["active"])
        ]
        return {"object": "list", "data": prices, "has_more": False, "url": "/v1/prices"}

    def _price(self, params: Obj) -> Obj:
        self._get(params["product"], "product")
        lookup_key = params.get("lookup_key")
        if lookup_key:
            holders = [
                obj
                for obj in self.objects.values()
                if obj["object"] == "price" and obj["lookup_key"] == lookup_key
            ]
            if holders and params.get("transfer_lookup_key") != "true":
                raise _Refusal(400, f"A price with lookup key {lookup_key} already exists.")
            for holder in holders:
                holder["lookup_key"] = None
        recurring = params.get("recurring")
        return self._store(
            example(
                "price",
                id=self.new_id("price"),
                product=params["product"],
                unit_amount=int(params["unit_amount"]),
                unit_amount_decimal=params["unit_amount"],
                currency=params["currency"],
                lookup_key=lookup_key,
                metadata=params.get("metadata", {}),
                nickname=params.get("nickname"),
                type="recurring" if recurring else "one_time",
                recurring={
                    **EXAMPLES["price"]["recurring"],
                    "interval": recurring["interval"],
                    "interval_count": 1,
                }
                if recurring
                else None,
                created=self.tick(),
                active=True,
            )
        )

    def _customer(self, params: Obj) -> Obj:
        return self._store(
            example(
                "customer",
                id=self.new_id("cus"),
                email=params.get("email"),
                name=params.get("name"),
                metadata=params.get("metadata", {}),
                preferred_locales=params.get("preferred_locales", []),
                created=self.tick(),
            )
        )

    def _checkout_session(self, params: Obj) -> Obj:
        for item in params.get("line_items", []):
            price = self._get(item["price"], "price")
            if not price["active"]:
                raise _Refusal(400, f"The price specified is inactive: {price['id']}")
        if params.get("customer"):
            self._get(params["customer"], "customer")
        session_id = f"cs_test_{secrets.token_hex(24)}"
        return self._store(
            example(
                "checkout.session",
                id=session_id,
                mode=params["mode"],
                customer=params.get("customer"),
                customer_email=params.get("customer_email"),
                client_reference_id=params.get("client_reference_id"),
                metadata=params.get("metadata", {}),
                locale=params.get("locale"),
                success_url=params["success_url"],
                cancel_url=params["cancel_url"],
                url=f"https://checkout.stripe.com/c/pay/{session_id}",
                status="open",
                payment_status="unpaid",
                created=self.tick(),
                expires_at=self.clock + 24 * 3600,
                payment_intent=None,
                subscription=None,
                invoice=None,
                _params=params,
            )
        )

    def _subscription_new(self, customer_id: str, items: list[Obj], metadata: Obj) -> Obj:
        subscription_id = self.new_id("sub")
        start = self.tick()
        template_item = EXAMPLES["subscription"]["items"]["data"][0]
        return self._store(
            example(
                "subscription",
                id=subscription_id,
                customer=customer_id,
                status="active",
                metadata=metadata,
                created=start,
                start_date=start,
                billing_cycle_anchor=start,
                cancel_at=None,
                canceled_at=None,
                ended_at=None,
                cancel_at_period_end=False,
                trial_start=None,
                trial_end=None,
                currency=self.objects[items[0]["price"]]["currency"],
                items={
                    "object": "list",
                    "has_more": False,
                    "url": f"/v1/subscription_items?subscription={subscription_id}",
                    "data": [
                        {
                            **copy.deepcopy(template_item),
                            "id": self.new_id("si"),
                            "subscription": subscription_id,
                            "price": copy.deepcopy(self.objects[item["price"]]),
                            "quantity": int(item.get("quantity", 1)),
                            "current_period_start": start,
                            "current_period_end": start + YEAR_SECONDS,
                            "created": start,
                        }
                        for item in items
                    ],
                },
            )
        )

    def _subscription_update(self, subscription: Obj, params: Obj) -> Obj:
        if subscription["status"] == "canceled":
            raise _Refusal(400, "A canceled subscription can only update its metadata.")
        if "cancel_at_period_end" in params:
            subscription["cancel_at_period_end"] = params["cancel_at_period_end"] == "true"
            period_end = subscription["items"]["data"][0]["current_period_end"]
            subscription["cancel_at"] = period_end if subscription["cancel_at_period_end"] else None
        if "trial_end" in params:
            end = int(params["trial_end"])
            subscription.update(status="trialing", trial_start=self.clock, trial_end=end)
            for item in subscription["items"]["data"]:
                item["current_period_end"] = end
        if "metadata" in params:
            subscription["metadata"] = {**subscription["metadata"], **params["metadata"]}
        return subscription

    def _invoice_new(self, customer_id: str, *, subscription: Obj | None, lines: list[Obj]) -> Obj:
        invoice_id = self.new_id("in")
        template_line = EXAMPLES["invoice"]["lines"]["data"][0]
        total = sum(price["unit_amount"] for price in lines)
        parent = None
        if subscription is not None:
            parent = {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {
                    "metadata": copy.deepcopy(subscription["metadata"]),
                    "subscription": subscription["id"],
                },
            }
        return self._store(
            example(
                "invoice",
                id=invoice_id,
                customer=customer_id,
                subscription=None,
                parent=parent,
                billing_reason="subscription_create" if subscription else "manual",
                collection_method="charge_automatically",
                currency=lines[0]["currency"] if lines else "usd",
                amount_due=total,
                amount_paid=0,
                amount_remaining=total,
                subtotal=total,
                total=total,
                status="open",
                number=f"CANV-{len(self.objects):06d}",
                hosted_invoice_url=f"https://invoice.stripe.com/i/{invoice_id}",
                invoice_pdf=f"https://pay.stripe.com/invoice/{invoice_id}/pdf",
                created=self.tick(),
                period_start=self.clock,
                period_end=self.clock,
                due_date=None,
                metadata={},
                custom_fields=None,
                status_transitions={**EXAMPLES["invoice"]["status_transitions"]},
                lines={
                    "object": "list",
                    "has_more": False,
                    "url": f"/v1/invoices/{invoice_id}/lines",
                    "data": [
                        {
                            **copy.deepcopy(template_line),
                            "id": self.new_id("il"),
                            "invoice": invoice_id,
                            "amount": price["unit_amount"],
                            "currency": price["currency"],
                            "description": price.get("nickname") or "",
                            "subtotal": price["unit_amount"],
                            "pricing": {
                                "type": "price_details",
                                "price_details": {
                                    "price": price["id"],
                                    "product": price["product"],
                                },
                                "unit_amount_decimal": str(price["unit_amount"]),
                            },
                        }
                        for price in lines
                    ],
                },
            )
        )

    def _invoice_pay(self, invoice: Obj) -> None:
        payment_intent = self.new_id("pi")
        charge = self._store(
            example(
                "charge",
                id=self.new_id("ch"),
                amount=invoice["amount_due"],
                amount_captured=invoice["amount_due"],
                amount_refunded=0,
                captured=True,
                paid=True,
                refunded=False,
                disputed=False,
                currency=invoice["currency"],
                customer=invoice["customer"],
                payment_intent=payment_intent,
                created=self.tick(),
                status="succeeded",
            )
        )
        invoice.update(
            status="paid",
            amount_paid=invoice["amount_due"],
            amount_remaining=0,
            attempted=True,
            attempt_count=1,
            _charge=charge["id"],
            payments={
                "object": "list",
                "has_more": False,
                "url": f"/v1/invoice_payments?invoice={invoice['id']}",
                "data": [
                    {
                        "object": "invoice_payment",
                        "id": self.new_id("inpay"),
                        "invoice": invoice["id"],
                        "amount_paid": invoice["amount_due"],
                        "currency": invoice["currency"],
                        "is_default": True,
                        "status": "paid",
                        "payment": {"type": "payment_intent", "payment_intent": payment_intent},
                    }
                ],
            },
        )
        invoice["status_transitions"].update(finalized_at=self.clock, paid_at=self.clock)

    def invoice_pay(self, invoice_id: str, how: str = "bank_transfer") -> list[Obj]:
        """A department pays its license invoice (by bank transfer or check)."""
        with self.lock:
            invoice = self.objects[invoice_id]
            self._invoice_pay(invoice)
            return [self.event("invoice.paid", invoice)]

    def _invoice_draft(self, params: Obj) -> Obj:
        self._get(params["customer"], "customer")
        invoice = self._invoice_new(params["customer"], subscription=None, lines=[])
        invoice.update(
            status="draft",
            collection_method=params.get("collection_method", "charge_automatically"),
            due_date=None,
            metadata=params.get("metadata", {}),
            custom_fields=params.get("custom_fields"),
            description=params.get("description"),
            number=None,
            hosted_invoice_url=None,
            invoice_pdf=None,
            payment_settings={
                **EXAMPLES["invoice"]["payment_settings"],
                "payment_method_types": params.get("payment_settings", {}).get(
                    "payment_method_types"
                ),
            },
        )
        if params.get("days_until_due"):
            invoice["due_date"] = self.clock + int(params["days_until_due"]) * 24 * 3600
        for item in self.objects.values():
            if (
                item["object"] == "invoiceitem"
                and item["invoice"] is None
                and item["customer"] == params["customer"]
            ):
                item["invoice"] = invoice["id"]
                invoice["amount_due"] += item["amount"]
                invoice["amount_remaining"] += item["amount"]
                invoice["total"] += item["amount"]
                invoice["subtotal"] += item["amount"]
        return invoice

    def _invoice_item(self, params: Obj) -> Obj:
        self._get(params["customer"], "customer")
        if params.get("invoice"):
            # An item for a named draft invoice is added to it (Stripe's recommended order:
            # the draft first, then its items).
            invoice = self._get(params["invoice"], "invoice")
            if invoice["status"] != "draft":
                raise _Refusal(400, "Invoice items can only be added to draft invoices.")
            for total in ("amount_due", "amount_remaining", "total", "subtotal"):
                invoice[total] += int(params["amount"])
        return self._store(
            example(
                "invoiceitem",
                id=self.new_id("ii"),
                customer=params["customer"],
                amount=int(params["amount"]),
                currency=params["currency"],
                description=params.get("description"),
                invoice=params.get("invoice"),
                metadata=params.get("metadata", {}),
                date=self.tick(),
            )
        )

    def _refund(self, params: Obj) -> Obj:
        charges = [
            obj
            for obj in self.objects.values()
            if obj["object"] == "charge"
            and (params.get("charge") or params.get("payment_intent") or "-")
            in (obj["id"], obj["payment_intent"])
        ]
        if not charges:
            raise _Refusal(404, "No such payment_intent.", code="resource_missing")
        charge = charges[0]
        amount = int(params.get("amount", charge["amount"] - charge["amount_refunded"]))
        if amount > charge["amount"] - charge["amount_refunded"]:
            raise _Refusal(
                400,
                f"Refund amount (${amount / 100:.2f}) is greater than unrefunded amount on charge "
                f"(${(charge['amount'] - charge['amount_refunded']) / 100:.2f})",
                code="amount_too_large",
            )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        return self._store(
            example(
                "refund",
                id=self.new_id("re"),
                amount=amount,
                charge=charge["id"],
                payment_intent=charge["payment_intent"],
                currency=charge["currency"],
                metadata=params.get("metadata", {}),
                created=self.tick(),
                status="succeeded",
            )
        )

    def _payment_intent(self, params: Obj) -> Obj:
        """A PaymentIntent (no example object in the fixtures: the fields Canvass reads, as
        Stripe names them); confirmed with a test card it succeeds with one charge."""
        intent_id = self.new_id("pi")
        amount = int(params["amount"])
        confirmed = params.get("confirm") == "true"
        charge = None
        if confirmed:
            charge = self._store(
                example(
                    "charge",
                    id=self.new_id("ch"),
                    amount=amount,
                    amount_captured=amount,
                    amount_refunded=0,
                    captured=True,
                    paid=True,
                    refunded=False,
                    disputed=False,
                    currency=params["currency"],
                    customer=params.get("customer"),
                    payment_intent=intent_id,
                    created=self.tick(),
                    status="succeeded",
                )
            )
        return self._store(
            {
                "id": intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount if confirmed else 0,
                "currency": params["currency"],
                "customer": params.get("customer"),
                "payment_method": params.get("payment_method"),
                "latest_charge": charge["id"] if charge else None,
                "metadata": params.get("metadata", {}),
                "status": "succeeded" if confirmed else "requires_payment_method",
                "created": self.clock,
                "livemode": False,
            }
        )

    def charge_refunded_event(self, refund_id: str) -> list[Obj]:
        """What Stripe sends after a refund (the charge, with amount_refunded raised)."""
        with self.lock:
            charge = self.objects[self.objects[refund_id]["charge"]]
            return [self.event("charge.refunded", charge)]


class _Refusal(Exception):
    def __init__(self, status: int, message: str, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.type = "invalid_request_error"
        self.message = message
        self.code = code
