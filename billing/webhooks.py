"""Stripe's webhooks, processed safely under replay and disorder: each event is recorded once by
its id in the same transaction as its effects, routed to its department through the public
customer map, and never trusted for state: subscriptions and charges are fetched from Stripe
again, and invoices only move forwards (services.invoice_record)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing import services
from billing.gateway import StripeDict, StripeRefused, gateway
from billing.models import Alert, Customer, Invoice, Subscription, WebhookEvent
from portal.registry.emails import email_send
from portal.registry.models import Site
from tenants.models import Department

Outcome = WebhookEvent.Outcome


class Orphaned(Exception):
    """The event names a department, subscription or site that no longer exists here: it is
    recorded and acknowledged (Stripe must not retry forever) and raised as an alert."""

    def __init__(self, reason: str, department: Department | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.department = department


class Handled:
    """What a handler reports back: the department it worked in and a short note."""

    def __init__(self, department: Department | None, detail: str = "") -> None:
        self.department = department
        self.detail = detail


def event_is_well_formed(event: Any) -> bool:
    """Whether a verified body is a Stripe event at all (an id, a type and an object)."""
    return (
        isinstance(event, dict)
        and event.get("object") == "event"
        and isinstance(event.get("id"), str)
        and bool(event["id"])
        and isinstance(event.get("type"), str)
        and isinstance(event.get("data"), dict)
        and isinstance(event["data"].get("object"), dict)
        and isinstance(event.get("created"), int)
    )


def event_process(*, event: StripeDict) -> WebhookEvent:
    """Record the event by its id and apply its effects, in one transaction. A replay (or a
    second delivery racing the first) finds the row and changes nothing: the unique insert
    waits for the first delivery's transaction and, once it commits, sees the event done.
    StripeUnavailable while handling propagates and rolls everything back, the event
    included, so that Stripe delivers it again later."""
    return event_process_once(event=event)[0]


@transaction.atomic
def event_process_once(*, event: StripeDict) -> tuple[WebhookEvent, bool]:
    """event_process, also saying whether this call applied the event (False: it was
    already recorded, by an earlier or a concurrent call)."""
    obj: StripeDict = event["data"]["object"]
    record, created = WebhookEvent.objects.get_or_create(
        stripe_event_id=event["id"],
        defaults={
            "type": event["type"][:100],
            "created": services.from_timestamp(event["created"]) or timezone.now(),
            "object_id": str(obj.get("id") or "")[:255],
            "outcome": Outcome.PROCESSED,
        },
    )
    if not created:
        return record, False
    handler = HANDLERS.get(event["type"])
    if handler is None:
        record.outcome = Outcome.IGNORED
        record.detail = "Type not handled."
    else:
        try:
            handled = handler(event, obj)
        except Orphaned as orphan:
            record.outcome = Outcome.ORPHANED
            record.department = orphan.department
            record.detail = orphan.reason[:500]
            Alert.objects.create(
                kind=Alert.Kind.ORPHANED_EVENT,
                department=orphan.department,
                message=f"{event['type']} {event['id']}: {orphan.reason}"[:500],
                stripe_event_id=event["id"],
            )
        else:
            record.department = handled.department
            record.detail = handled.detail[:500]
    record.save()
    return record, True


# -- routing ---------------------------------------------------------------------------------


def metadata_department_check(metadata: StripeDict, department: Department) -> None:
    """Metadata we put on Checkout names the department by its schema: it must be this one."""
    named = metadata.get("department")
    if not named or named == department.schema_name:
        return
    if not Department.objects.filter(schema_name=named).exists():
        raise Orphaned(f"The metadata names a department that does not exist ({named}).")
    raise Orphaned(
        f"The metadata names {named}, the customer belongs to {department.schema_name}.",
        department,
    )


def department_of_customer(customer_id: str | None, metadata: StripeDict) -> Department:
    """The department through the public customer map, cross-checked with the metadata."""
    department = services.customer_department(customer_id)
    if department is None:
        named = metadata.get("department")
        if named and not Department.objects.filter(schema_name=named).exists():
            raise Orphaned(f"The metadata names a department that does not exist ({named}).")
        raise Orphaned(f"The customer {customer_id or '(none)'} belongs to no department.")
    metadata_department_check(metadata, department)
    return department


def subscription_local(
    *, stripe_subscription_id: str | None, metadata: StripeDict, department: Department
) -> Subscription | None:
    """Our row for a Stripe subscription: by its id, else (not linked yet: events out of
    order) through the metadata's local subscription pk, in this department only."""
    if stripe_subscription_id:
        found = Subscription.objects.filter(stripe_subscription_id=stripe_subscription_id).first()
        if found is not None:
            if found.department_id != department.pk:
                raise Orphaned(
                    f"The subscription belongs to another department than the customer's "
                    f"({found.department.schema_name}).",
                    department,
                )
            return found
    local_pk = str(metadata.get("subscription") or "")
    if not local_pk.isdigit():
        return None
    found = Subscription.objects.filter(pk=int(local_pk), department=department).first()
    if found is None:
        return None
    site = str(metadata.get("site") or "")
    if site and site != str(found.site_id):
        raise Orphaned(
            f"The metadata names site {site}, the subscription is for site {found.site_id}.",
            department,
        )
    if found.stripe_subscription_id and found.stripe_subscription_id != stripe_subscription_id:
        raise Orphaned(
            "The local subscription is linked to another Stripe subscription.", department
        )
    return found


def site_exists(subscription: Subscription) -> bool:
    with services.in_department(subscription.department):
        return Site.objects.filter(pk=subscription.site_id).exists()


def subscription_refetched(
    *, stripe_subscription_id: str, department: Department, event_id: str
) -> Subscription:
    """Fetch the subscription from Stripe (never the event's snapshot), find our row and
    apply the state: out-of-order events cannot move it backwards."""
    try:
        stripe_subscription = gateway().subscription_retrieve(stripe_subscription_id)
    except StripeRefused as refusal:
        raise Orphaned(
            f"Stripe does not know the subscription: {refusal.message}", department
        ) from refusal
    metadata = services.metadata_of(stripe_subscription)
    metadata_department_check(metadata, department)
    subscription = subscription_local(
        stripe_subscription_id=stripe_subscription_id, metadata=metadata, department=department
    )
    if subscription is None:
        raise Orphaned(f"No subscription here for {stripe_subscription_id}.", department)
    customer = Customer.objects.filter(
        stripe_customer_id=stripe_subscription.get("customer") or ""
    ).first()
    if subscription.customer_id is None and customer is not None:
        subscription.customer = customer
        subscription.save(update_fields=["customer", "updated_at"])
    return services.subscription_state_apply(
        subscription=subscription, stripe_subscription=stripe_subscription, stripe_event_id=event_id
    )


def invoice_metadata(stripe_invoice: StripeDict) -> StripeDict:
    parent = stripe_invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return {**services.metadata_of(stripe_invoice), **(details.get("metadata") or {})}


def invoice_with_subscription(
    event: StripeDict, stripe_invoice: StripeDict
) -> tuple[Department, Invoice, Subscription | None]:
    """Record an invoice in its department, its subscription linked first (an invoice may
    arrive before the Checkout or subscription events that would have linked it)."""
    department = department_of_customer(
        stripe_invoice.get("customer"), invoice_metadata(stripe_invoice)
    )
    subscription = None
    stripe_subscription_id = services.invoice_subscription_id(stripe_invoice)
    if stripe_subscription_id:
        subscription = subscription_local(
            stripe_subscription_id=stripe_subscription_id,
            metadata=invoice_metadata(stripe_invoice),
            department=department,
        )
        if subscription is None or subscription.stripe_subscription_id != stripe_subscription_id:
            subscription = subscription_refetched(
                stripe_subscription_id=stripe_subscription_id,
                department=department,
                event_id=event["id"],
            )
    invoice = services.invoice_record(stripe_invoice=stripe_invoice, department=department)
    return department, invoice, subscription


# -- handlers --------------------------------------------------------------------------------


def checkout_completed(event: StripeDict, session: StripeDict) -> Handled:
    """The owner finished Checkout: link our subscription to Stripe's and apply its state.
    No entitlement here: only a paid invoice starts one."""
    if session.get("mode") != "subscription":
        return Handled(None, "Not a subscription Checkout.")
    metadata = services.metadata_of(session)
    local = Subscription.objects.filter(checkout_session_id=session["id"]).first()
    department = services.customer_department(session.get("customer"))
    if department is None and local is not None:
        department = local.department
    if department is None:
        department = department_of_customer(session.get("customer"), metadata)
    metadata_department_check(metadata, department)
    if local is None:
        local = subscription_local(
            stripe_subscription_id=session.get("subscription"),
            metadata=metadata,
            department=department,
        )
    if local is None or local.department_id != department.pk:
        raise Orphaned(f"No subscription here for the Checkout {session['id']}.", department)
    if not site_exists(local):
        raise Orphaned(f"Site {local.site_id} no longer exists.", department)
    if not session.get("subscription"):
        return Handled(department, "Checkout without a subscription yet.")
    services.history(local, "checkout_completed", stripe_event_id=event["id"])
    subscription_refetched(
        stripe_subscription_id=session["subscription"],
        department=department,
        event_id=event["id"],
    )
    return Handled(department)


def subscription_changed(event: StripeDict, stripe_subscription: StripeDict) -> Handled:
    """created / updated / deleted alike: whatever the event says, Stripe's current state."""
    department = department_of_customer(
        stripe_subscription.get("customer"), services.metadata_of(stripe_subscription)
    )
    subscription = subscription_refetched(
        stripe_subscription_id=stripe_subscription["id"],
        department=department,
        event_id=event["id"],
    )
    return Handled(department, f"status {subscription.status}")


def invoice_paid(event: StripeDict, stripe_invoice: StripeDict) -> Handled:
    """Integration follows money: a paid subscription invoice starts the entitlement (a
    license invoice updates its license through invoice_record)."""
    department, invoice, subscription = invoice_with_subscription(event, stripe_invoice)
    if subscription is None or invoice.status != Invoice.Status.PAID:
        return Handled(department, f"invoice {invoice.status}")
    # A site gone (its owner opted out) is checked first: the money came in for nothing, and
    # the alert tells billing staff to refund it.
    if not site_exists(subscription):
        raise Orphaned(
            f"Site {subscription.site_id} no longer exists; the invoice is recorded, "
            "no device ordered.",
            department,
        )
    if subscription.is_ended:
        return Handled(department, "The subscription has ended; nothing to start.")
    services.entitlement_start(subscription=subscription, stripe_event_id=event["id"])
    return Handled(department, "entitlement started")


def invoice_payment_failed(event: StripeDict, stripe_invoice: StripeDict) -> Handled:
    """A renewal failed: grace period, the owner told in their language, an alert."""
    department, invoice, subscription = invoice_with_subscription(event, stripe_invoice)
    if invoice.payment_failed_at is None:
        invoice.payment_failed_at = timezone.now()
        invoice.save(update_fields=["payment_failed_at"])
    if subscription is None:
        return Handled(department, "payment failed")
    subscription = services.grace_start(subscription=subscription)
    services.history(
        subscription,
        "payment_failed",
        stripe_event_id=event["id"],
        amount=stripe_invoice.get("amount_due"),
        detail=f"Invoice {invoice}; integrated until {subscription.grace_until:%Y-%m-%d}.",
    )
    if not Alert.objects.filter(
        kind=Alert.Kind.PAYMENT_FAILED, subscription=subscription, resolved_at__isnull=True
    ).exists():
        Alert.objects.create(
            kind=Alert.Kind.PAYMENT_FAILED,
            department=department,
            subscription=subscription,
            message=f"Payment failed for {subscription} ({department.schema_name}).",
            stripe_event_id=event["id"],
        )
    payment_failed_email(subscription)
    return Handled(department, "grace started")


def payment_failed_email(subscription: Subscription) -> None:
    """Tell the owner, in their language, once the event's transaction commits."""
    department = subscription.department
    with services.in_department(department):
        participant = services.participant_of(subscription)
        if participant is None or not participant.user.email or subscription.grace_until is None:
            return
        grace_until = timezone.localtime(subscription.grace_until, department.zone).date()
        to, language = participant.user.email, participant.language
    context = {
        "plan": subscription.plan.name,
        "address": subscription.site_address,
        "grace_until": grace_until,
        "manage_url": department.url("/my/"),
    }
    transaction.on_commit(
        lambda: email_send(
            template="billing/email/payment_failed",
            to=to,
            language=language,
            context=context,
            department=department,
        )
    )


def invoice_finalized(event: StripeDict, stripe_invoice: StripeDict) -> Handled:
    department, invoice, _subscription = invoice_with_subscription(event, stripe_invoice)
    return Handled(department, f"invoice {invoice.status}")


def invoice_of_charge(charge: StripeDict) -> Invoice | None:
    intent = charge.get("payment_intent") or ""
    return Invoice.objects.select_for_update().filter(charge_id=charge["id"]).first() or (
        Invoice.objects.select_for_update().filter(payment_intent_id=intent).first()
        if intent
        else None
    )


def charge_fetched(charge_id: str, department: Department | None = None) -> StripeDict:
    try:
        return gateway().charge_retrieve(charge_id)
    except StripeRefused as refusal:
        raise Orphaned(
            f"Stripe does not know the charge: {refusal.message}", department
        ) from refusal


def charge_refunded(event: StripeDict, charge: StripeDict) -> Handled:
    """A refund (from our console or Stripe's dashboard): the invoice's refunded amount is the
    charge's, as Stripe has it now."""
    department = department_of_customer(charge.get("customer"), services.metadata_of(charge))
    charge = charge_fetched(charge["id"], department)
    invoice = invoice_of_charge(charge)
    if invoice is None or invoice.department_id != department.pk:
        raise Orphaned(f"No invoice here for the charge {charge['id']}.", department)
    refunded = int(charge.get("amount_refunded") or 0)
    change = refunded - invoice.amount_refunded
    invoice.charge_id = charge["id"]
    invoice.amount_refunded = max(refunded, 0)
    invoice.save(update_fields=["charge_id", "amount_refunded"])
    if invoice.subscription is not None and change:
        services.history(
            invoice.subscription,
            "refunded",
            stripe_event_id=event["id"],
            amount=change,
            detail=f"Invoice {invoice}: {refunded} refunded in all.",
        )
    return Handled(department, f"refunded {refunded}")


def dispute_created(event: StripeDict, dispute: StripeDict) -> Handled:
    """A chargeback: the invoice marked disputed, an alert for billing staff."""
    charge = charge_fetched(str(dispute.get("charge") or ""))
    department = department_of_customer(charge.get("customer"), services.metadata_of(charge))
    invoice = invoice_of_charge(charge)
    if invoice is None or invoice.department_id != department.pk:
        raise Orphaned(f"No invoice here for the disputed charge {charge['id']}.", department)
    invoice.disputed = True
    invoice.charge_id = charge["id"]
    invoice.save(update_fields=["disputed", "charge_id"])
    if invoice.subscription is not None:
        services.history(
            invoice.subscription,
            "disputed",
            stripe_event_id=event["id"],
            amount=dispute.get("amount"),
            detail=str(dispute.get("reason") or ""),
        )
    Alert.objects.create(
        kind=Alert.Kind.DISPUTE,
        department=department,
        subscription=invoice.subscription,
        message=f"Payment of invoice {invoice} disputed ({dispute.get('reason') or 'no reason'}).",
        stripe_event_id=event["id"],
    )
    return Handled(department, "disputed")


HANDLERS: dict[str, Callable[[StripeDict, StripeDict], Handled]] = {
    "checkout.session.completed": checkout_completed,
    "customer.subscription.created": subscription_changed,
    "customer.subscription.updated": subscription_changed,
    "customer.subscription.deleted": subscription_changed,
    "invoice.paid": invoice_paid,
    "invoice.payment_failed": invoice_payment_failed,
    "invoice.finalized": invoice_finalized,
    "charge.refunded": charge_refunded,
    "charge.dispute.created": dispute_created,
}
