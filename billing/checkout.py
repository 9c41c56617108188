"""An owner buys an integration device for one of their sites: Stripe Checkout in subscription
mode (the device once, the yearly fee recurring), Stripe's customer portal for the card, invoices
and cancellation, and what opting out does to the owner's subscriptions. Integration itself
starts only when Stripe says the first invoice is paid (billing.services.entitlement_start)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.actions import cancel_key, cancel_queue
from billing.gateway import (
    PaymentsNotConfigured,
    StripeRefused,
    StripeUnavailable,
    gateway,
    payments_configured,
)
from billing.models import Alert, Customer, DevicePlan, Subscription
from billing.selectors import plans_offered
from billing.services import entitlement_end, from_timestamp, history
from portal.registry.audit import Actor
from portal.registry.models import Participant, Site
from tenants.models import Department, current_department

# What the owner's language makes of Stripe's pages (Checkout and the customer portal).
STRIPE_LOCALES = ("en", "es")
# A Checkout session this close to its expiry is not handed out again: the owner needs time.
CHECKOUT_REUSE_MARGIN_SECONDS = 15 * 60
# The site address a subscription keeps once its owner has opted out (the row stays for the
# vendor's accounts; nothing in it names a person or a place any more).
OPTED_OUT_ADDRESS = "(owner opted out)"


class CheckoutRefused(Exception):
    """A checkout or a customer-portal visit that cannot start, with the reason for the owner."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def stripe_locale(language: str) -> str:
    return "es" if (language or "").startswith("es") else "en"


def _participant_of(actor: Actor) -> Participant:
    if actor.participant is None:
        raise CheckoutRefused(_("Only the site's owner can buy a device for it."))
    return actor.participant


def open_subscriptions(department: Department) -> QuerySet[Subscription]:
    return Subscription.objects.filter(department=department).exclude(
        status__in=Subscription.ENDED_STATUSES
    )


def _customer_for(*, department: Department, participant: Participant, language: str) -> Customer:
    """The Stripe customer of this participant in this city, created at Stripe the first time
    and mapped to the department here, so every later event about it finds its city."""
    customer = Customer.objects.filter(department=department, participant_id=participant.pk).first()
    if customer is not None:
        return customer
    email = participant.user.email
    created = gateway().customer_create(
        {
            "email": email,
            "preferred_locales": [stripe_locale(language)],
            "metadata": {
                "department": department.schema_name,
                "participant": str(participant.pk),
            },
        },
        idempotency_key=f"canvass-customer-{department.schema_name}-participant-{participant.pk}",
    )
    try:
        with transaction.atomic():
            return Customer.objects.create(
                stripe_customer_id=created["id"],
                department=department,
                participant_id=participant.pk,
                email=email,
            )
    except IntegrityError:
        # A concurrent checkout of the same owner mapped it first (the same idempotency key
        # gave both the same Stripe customer).
        return Customer.objects.get(department=department, participant_id=participant.pk)


def _reusable_checkout_url(subscription: Subscription) -> str | None:
    """The URL of an open subscription's Checkout if the owner can still use it; None if that
    Checkout has expired (the row is then closed so that a new one can start)."""
    if subscription.status != Subscription.Status.CHECKOUT:
        if subscription.entitled or subscription.status in Subscription.LIVE_STATUSES:
            raise CheckoutRefused(_("This site is already integrated: it has a device plan."))
        raise CheckoutRefused(
            _("A payment for this site is being confirmed. Check back in a few minutes.")
        )
    margin = timezone.now() + timedelta(seconds=CHECKOUT_REUSE_MARGIN_SECONDS)
    if (
        subscription.checkout_url
        and subscription.checkout_expires_at
        and subscription.checkout_expires_at > margin
    ):
        return subscription.checkout_url
    if subscription.checkout_session_id:
        session = gateway().checkout_session_retrieve(subscription.checkout_session_id)
        if session.get("status") == "complete":
            raise CheckoutRefused(
                _("A payment for this site is being confirmed. Check back in a few minutes.")
            )
        if session.get("status") == "open":
            gateway().checkout_session_expire(subscription.checkout_session_id)
    subscription.status = Subscription.Status.INCOMPLETE_EXPIRED
    subscription.ended_at = timezone.now()
    subscription.save(update_fields=["status", "ended_at", "updated_at"])
    history(subscription, "checkout_expired", detail="A new Checkout replaces it.")
    return None


def _checkout_validate(
    *, actor: Actor, site: Site, plan: DevicePlan, department: Department
) -> None:
    participant = _participant_of(actor)
    if site.participant_id != participant.pk:
        raise CheckoutRefused(_("This site is not one of yours."))
    if current_department().pk != department.pk:
        raise CheckoutRefused(_("This site is not one of yours."))
    if not plans_offered(department).filter(pk=plan.pk).exists():
        raise CheckoutRefused(_("This department does not offer that device plan."))
    if not plan.is_synced:
        raise CheckoutRefused(_("This plan is not available for purchase yet."))
    if site.participation == Site.Participation.INTEGRATED:
        raise CheckoutRefused(_("This site is already integrated: it has a device plan."))


@transaction.atomic
def checkout_start(
    *,
    actor: Actor,
    site: Site,
    plan: DevicePlan,
    department: Department,
    language: str,
    success_url: str,
    cancel_url: str,
) -> str:
    """The Stripe Checkout URL where the owner pays for `plan` at `site`. A second call while
    that Checkout is open returns the same URL (one session per site); nothing is written if
    Stripe cannot be reached or refuses (StripeUnavailable, StripeRefused), and without keys
    PaymentsNotConfigured says payments are off. CheckoutRefused says why a site cannot buy."""
    if not payments_configured():
        # Before anything else: on an installation without Stripe (the demo) no plan is
        # synced, and "not available yet" would hide the real reason.
        raise PaymentsNotConfigured
    _checkout_validate(actor=actor, site=site, plan=plan, department=department)
    participant = _participant_of(actor)
    # One checkout at a time per owner: a double-submitted form waits here for the first.
    Participant.objects.select_for_update().filter(pk=participant.pk).first()
    existing = open_subscriptions(department).select_for_update().filter(site_id=site.pk).first()
    if existing is not None and (url := _reusable_checkout_url(existing)) is not None:
        return url
    customer = _customer_for(department=department, participant=participant, language=language)
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create_for_site(
                department=department,
                site=site,
                plan=plan,
                customer=customer,
                status=Subscription.Status.CHECKOUT,
            )
    except IntegrityError:
        # billing_one_open_subscription_per_site: another request opened this site's Checkout
        # between our look and our insert; hand out that one.
        existing = open_subscriptions(department).filter(site_id=site.pk).first()
        if existing is None or not existing.checkout_url:
            raise
        if existing.status != Subscription.Status.CHECKOUT:
            raise CheckoutRefused(
                _("This site is already integrated: it has a device plan.")
            ) from None
        return existing.checkout_url
    metadata = {
        "department": department.schema_name,
        "site": str(site.pk),
        "participant": str(participant.pk),
        "subscription": str(subscription.pk),
    }
    session = gateway().checkout_session_create(
        {
            "mode": "subscription",
            "customer": customer.stripe_customer_id,
            "line_items": [
                {"price": plan.stripe_device_price_id, "quantity": 1},
                {"price": plan.stripe_yearly_price_id, "quantity": 1},
            ],
            "metadata": metadata,
            "subscription_data": {"metadata": metadata},
            "client_reference_id": f"{department.schema_name}-{subscription.pk}",
            "locale": stripe_locale(language),
            "success_url": success_url,
            "cancel_url": cancel_url,
        },
        idempotency_key=f"canvass-checkout-{department.schema_name}-subscription-{subscription.pk}",
    )
    subscription.checkout_session_id = session["id"]
    subscription.checkout_url = session["url"]
    subscription.checkout_expires_at = from_timestamp(session.get("expires_at"))
    subscription.save(
        update_fields=["checkout_session_id", "checkout_url", "checkout_expires_at", "updated_at"]
    )
    history(
        subscription,
        "checkout_started",
        actor_email=actor.email,
        amount=plan.device_price + plan.yearly_price,
        detail=f"{plan.name}: Checkout {session['id']}",
    )
    return str(session["url"])


def portal_session_start(
    *, actor: Actor, department: Department, return_url: str, language: str
) -> str:
    """The URL of Stripe's customer portal for this owner (card, invoices, cancellation)."""
    participant = _participant_of(actor)
    customer = Customer.objects.filter(department=department, participant_id=participant.pk).first()
    if customer is None:
        raise CheckoutRefused(_("You have no device plan yet: there is nothing to manage."))
    session = gateway().portal_session_create(
        {
            "customer": customer.stripe_customer_id,
            "return_url": return_url,
            "locale": stripe_locale(language),
        },
        # A portal session is a fresh link each time; the key only guards one click's retries.
        idempotency_key=(
            f"canvass-portal-{department.schema_name}-participant-{participant.pk}-"
            f"{uuid.uuid4().hex}"
        ),
    )
    return str(session["url"])


def subscriptions_cancel_for_opt_out(*, participant: Participant, department: Department) -> None:
    """An owner opting out: every open subscription of theirs is cancelled at Stripe in the same
    action (a pending Checkout expired) and its entitlement ended. Opting out is never blocked by
    payments: when Stripe cannot be reached (or this installation has no keys), the cancellation
    is recorded as owed (a console alert and a history line) and the opt-out proceeds. The
    subscriptions keep no address of the owner afterwards."""
    subscriptions = Subscription.objects.select_for_update().filter(
        department=department, participant_id=participant.pk
    )
    for subscription in subscriptions:
        if not subscription.is_ended:
            _cancel_at_stripe(subscription)
            entitlement_end(subscription=subscription, reason="The owner opted out.")
    subscriptions.update(site_address=OPTED_OUT_ADDRESS)
    Customer.objects.filter(department=department, participant_id=participant.pk).update(email="")


def _cancel_at_stripe(subscription: Subscription) -> None:
    try:
        if subscription.stripe_subscription_id:
            cancelled = gateway().subscription_cancel(
                subscription.stripe_subscription_id,
                idempotency_key=cancel_key(subscription.stripe_subscription_id),
            )
            subscription.status = cancelled.get("status") or Subscription.Status.CANCELED
            detail = f"Cancelled at Stripe: {subscription.stripe_subscription_id}"
        elif subscription.checkout_session_id:
            _checkout_expire(subscription.checkout_session_id)
            subscription.status = Subscription.Status.INCOMPLETE_EXPIRED
            detail = f"Checkout expired at Stripe: {subscription.checkout_session_id}"
        else:
            subscription.status = Subscription.Status.INCOMPLETE_EXPIRED
            detail = "No Stripe object to cancel."
    except StripeUnavailable as error:
        if not subscription.stripe_subscription_id:
            _cancellation_owed(subscription, error)
            return
        # Queued, not lost: billing.retries cancels it at Stripe with one idempotency key once
        # Stripe answers again (its history says "cancel_pending" until then).
        cancel_queue(
            subscription=subscription, actor_email="", reason="The owner opted out.", error=error
        )
        return
    except (StripeRefused, PaymentsNotConfigured) as error:
        _cancellation_owed(subscription, error)
        return
    subscription.ended_at = subscription.ended_at or timezone.now()
    subscription.save(update_fields=["status", "ended_at", "updated_at"])
    history(subscription, "cancelled_opt_out", reason="The owner opted out.", detail=detail)


def _checkout_expire(session_id: str) -> None:
    try:
        gateway().checkout_session_expire(session_id)
    except StripeRefused:
        # Already expired, or completed before its webhooks arrived: the subscription the owner
        # just paid for is cancelled at Stripe too (the paid invoice's webhook then raises an
        # alert for billing staff to refund it).
        session = gateway().checkout_session_retrieve(session_id)
        if session.get("status") == "open":
            raise
        if session.get("subscription"):
            gateway().subscription_cancel(str(session["subscription"]))


def _cancellation_owed(subscription: Subscription, error: Exception) -> None:
    target = subscription.stripe_subscription_id or subscription.checkout_session_id or "-"
    reason = str(getattr(error, "message", "") or error.__class__.__name__)
    Alert.objects.create(
        kind=Alert.Kind.STRIPE_FAILURE,
        department=subscription.department,
        subscription=subscription,
        message=(
            f"The owner opted out but Stripe could not cancel {target}: cancel it by hand "
            f"({reason})"
        )[:500],
    )
    history(
        subscription,
        "cancellation_owed",
        reason="The owner opted out.",
        detail=f"Stripe could not cancel {target}: {reason}",
    )


def opt_out_received(sender: Any, participant: Participant, **kwargs: Any) -> None:
    """portal.registry.signals.participant_opting_out, connected in BillingConfig.ready."""
    subscriptions_cancel_for_opt_out(participant=participant, department=current_department())
