"""The small local picture of the vendor's Stripe account, in the public schema: the device
catalog and which cities offer it, the customer/subscription -> department map, each site's
subscription with its history, invoices, device fulfilment, department licenses, the Stripe
events already processed and the alerts raised for the billing console. Money is in the
currency's smallest unit (cents); Stripe stays the record of payments and cards."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.models import Department

if TYPE_CHECKING:
    from portal.registry.models import Site


class DevicePlan(models.Model):
    """An integration device model the vendor sells, with its yearly subscription: one Stripe
    Product and two Prices (the device once, the subscription yearly) found by lookup key."""

    slug = models.SlugField(
        _("code"),
        max_length=40,
        unique=True,
        help_text=_("Short code used in Stripe lookup keys, e.g. hub-4. Cannot change later."),
    )
    name = models.CharField(_("name"), max_length=80)
    cameras_supported = models.PositiveSmallIntegerField(
        _("cameras supported"), validators=[MinValueValidator(1), MaxValueValidator(512)]
    )
    storage_gb = models.PositiveIntegerField(_("storage (GB)"))
    video_search = models.BooleanField(_("video search"), default=False)
    device_price = models.PositiveIntegerField(
        _("device price (cents)"), validators=[MaxValueValidator(100_000_000)]
    )
    yearly_price = models.PositiveIntegerField(
        _("yearly subscription (cents)"),
        validators=[MinValueValidator(1), MaxValueValidator(100_000_000)],
    )
    currency = models.CharField(
        _("currency"),
        max_length=3,
        default="usd",
        validators=[RegexValidator(r"^[a-z]{3}$", _("Use a three-letter code, e.g. usd."))],
    )
    description_en = models.TextField(_("what the device does (English)"), max_length=2000)
    description_es = models.TextField(_("what the device does (Spanish)"), max_length=2000)
    active = models.BooleanField(_("on sale"), default=True)
    # Kept in step by billing.services.catalog_sync (empty until the first sync).
    stripe_product_id = models.CharField(max_length=255, blank=True)
    stripe_device_price_id = models.CharField(max_length=255, blank=True)
    stripe_yearly_price_id = models.CharField(max_length=255, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["yearly_price", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def device_lookup_key(self) -> str:
        return f"canvass_{self.slug}_device"

    @property
    def yearly_lookup_key(self) -> str:
        return f"canvass_{self.slug}_yearly"

    @property
    def is_synced(self) -> bool:
        return bool(self.stripe_device_price_id and self.stripe_yearly_price_id)

    def description(self, language: str) -> str:
        return self.description_es if language.startswith("es") else self.description_en


class PlanOffer(models.Model):
    """A plan a department offers its residents, in the department's order."""

    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="plan_offers")
    plan = models.ForeignKey(DevicePlan, on_delete=models.PROTECT, related_name="offers")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["department", "plan"], name="billing_offer_once")
        ]

    def __str__(self) -> str:
        return f"{self.plan} in {self.department}"


class Customer(models.Model):
    """A Stripe customer and the department (and, for residents, participant) it belongs to:
    the map every webhook is routed through."""

    stripe_customer_id = models.CharField(max_length=255, unique=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="customers")
    # The participant's id in the department's schema; null for the department itself (licenses).
    participant_id = models.BigIntegerField(null=True, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department", "participant_id"],
                name="billing_customer_once_per_participant",
            )
        ]

    def __str__(self) -> str:
        return self.stripe_customer_id


class SubscriptionQuerySet(models.QuerySet["Subscription"]):
    def create_for_site(
        self, *, department: Department, site: Site, plan: DevicePlan, **fields: Any
    ) -> Subscription:
        """A subscription of `plan` for a site of `department` (the site's ids and address
        copied, the plan's yearly price and currency kept as they are today)."""
        return self.create(
            department=department,
            site_id=site.pk,
            participant_id=site.participant_id,
            site_address=site.address,
            plan=plan,
            yearly_amount=plan.yearly_price,
            currency=plan.currency,
            **fields,
        )

    def entitled(self) -> SubscriptionQuerySet:
        """The one definition of a paid integration: what makes a site integrated."""
        return self.filter(entitled=True)

    def revenue_bearing(self) -> SubscriptionQuerySet:
        """Subscriptions that count in recurring revenue: live at Stripe and not complimentary."""
        return self.filter(status__in=Subscription.LIVE_STATUSES).exclude(
            complimentary_until__gt=timezone.now()
        )


class Subscription(models.Model):
    """One site's device subscription, from the Checkout that starts it to its end."""

    class Status(models.TextChoices):
        CHECKOUT = "checkout", _("Awaiting payment")
        INCOMPLETE = "incomplete", _("Incomplete")
        INCOMPLETE_EXPIRED = "incomplete_expired", _("Expired before payment")
        TRIALING = "trialing", _("Trial")
        ACTIVE = "active", _("Active")
        PAST_DUE = "past_due", _("Payment failed")
        UNPAID = "unpaid", _("Unpaid")
        CANCELED = "canceled", _("Canceled")
        PAUSED = "paused", _("Paused")

    LIVE_STATUSES = (Status.TRIALING, Status.ACTIVE, Status.PAST_DUE)
    ENDED_STATUSES = (Status.CANCELED, Status.UNPAID, Status.INCOMPLETE_EXPIRED)

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="subscriptions"
    )
    # Ids in the department's schema (no foreign key across schemas); the address is copied so
    # that the vendor's console can search without opening every city's schema.
    site_id = models.BigIntegerField()
    participant_id = models.BigIntegerField()
    site_address = models.CharField(max_length=200)
    plan = models.ForeignKey(DevicePlan, on_delete=models.PROTECT, related_name="subscriptions")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="subscriptions", null=True, blank=True
    )
    checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    checkout_url = models.URLField(max_length=2000, blank=True)
    checkout_expires_at = models.DateTimeField(null=True, blank=True)
    stripe_subscription_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CHECKOUT)
    # Integration follows money: set by a paid invoice, cleared when the subscription ends.
    entitled = models.BooleanField(default=False)
    yearly_amount = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    grace_until = models.DateTimeField(null=True, blank=True)
    complimentary_until = models.DateTimeField(null=True, blank=True)
    # The Stripe `created` time of the newest state applied, so an older one never wins.
    stripe_state_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        # Vendor staff with this permission run the billing console (a second factor required).
        permissions = [("run_billing", "Can run billing (refunds, cancellations, fulfilment)")]
        indexes = [
            models.Index(fields=["department", "status"]),
            models.Index(fields=["department", "site_id"]),
        ]
        constraints = [
            # One subscription in progress or live per site: a second Checkout reuses the first.
            models.UniqueConstraint(
                fields=["department", "site_id"],
                condition=~Q(status__in=["canceled", "unpaid", "incomplete_expired"]),
                name="billing_one_open_subscription_per_site",
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} at {self.site_address}"

    @property
    def is_ended(self) -> bool:
        return self.status in self.ENDED_STATUSES

    @property
    def monthly_amount(self) -> int:
        return round(self.yearly_amount / 12)


class SubscriptionEvent(models.Model):
    """A line of a subscription's history: what Stripe told us, or what vendor staff did and
    why (refund, cancellation, complimentary period, fulfilment step)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=60)
    stripe_event_id = models.CharField(max_length=255, blank=True)
    actor_email = models.EmailField(blank=True)
    reason = models.CharField(max_length=500, blank=True)
    amount = models.IntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} at {self.at:%Y-%m-%d %H:%M}"


class License(models.Model):
    """A department's yearly platform license, invoiced (send_invoice, net 30, PO number)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        OVERDUE = "overdue", _("Overdue")
        VOID = "void", _("Void")
        UNCOLLECTIBLE = "uncollectible", _("Uncollectible")

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="licenses")
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("renewal date"))
    amount = models.PositiveBigIntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="usd")
    po_number = models.CharField(_("purchase-order number"), max_length=60, blank=True)
    contract = models.CharField(_("cooperative contract"), max_length=120, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    stripe_invoice_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    hosted_invoice_url = models.URLField(max_length=2000, blank=True)
    due_date = models.DateField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "period_start"], name="billing_license_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.period_start:%Y}"


class Invoice(models.Model):
    """A Stripe invoice of a subscription or a license, as residents and consoles list it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        VOID = "void", _("Void")
        UNCOLLECTIBLE = "uncollectible", _("Uncollectible")

    stripe_invoice_id = models.CharField(max_length=255, unique=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="invoices")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="invoices", null=True, blank=True
    )
    license = models.ForeignKey(
        License, on_delete=models.CASCADE, related_name="invoices", null=True, blank=True
    )
    number = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    amount_due = models.BigIntegerField(default=0)
    amount_paid = models.BigIntegerField(default=0)
    amount_refunded = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    hosted_invoice_url = models.URLField(max_length=2000, blank=True)
    invoice_pdf = models.URLField(max_length=2000, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    charge_id = models.CharField(max_length=255, blank=True, db_index=True)
    disputed = models.BooleanField(default=False)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return self.number or self.stripe_invoice_id

    @property
    def refundable(self) -> int:
        return max(self.amount_paid - self.amount_refunded, 0)


class Fulfilment(models.Model):
    """The device a paid subscription ships: ordered -> shipped -> installed -> online."""

    class State(models.TextChoices):
        ORDERED = "ordered", _("Ordered")
        SHIPPED = "shipped", _("Shipped")
        INSTALLED = "installed", _("Installed")
        ONLINE = "online", _("Online")
        RETURNED = "returned", _("Returned")

    ORDER = (State.ORDERED, State.SHIPPED, State.INSTALLED, State.ONLINE)

    subscription = models.OneToOneField(
        Subscription, on_delete=models.CASCADE, related_name="fulfilment"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.ORDERED)
    carrier = models.CharField(_("carrier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=80, blank=True)
    ordered_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    online_at = models.DateTimeField(null=True, blank=True)
    # The site's device went silent (live view's offline check) and has not been heard since:
    # the vendor's fulfilment queue shows it again until a heartbeat clears it.
    device_offline_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["ordered_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_state_display()} for {self.subscription}"


class WebhookEvent(models.Model):
    """A Stripe event, recorded once by its id in the same transaction as its effects."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Acknowledged (type not handled)")
        ORPHANED = "orphaned", _("Department or site no longer exists")

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    created = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    object_id = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.type} {self.stripe_event_id}"


class Alert(models.Model):
    """Something billing staff must look at (an event for a city that no longer exists, a
    dispute, an overdue license, a cancellation Stripe refused)."""

    class Kind(models.TextChoices):
        ORPHANED_EVENT = "orphaned_event", _("Event for a missing department or site")
        DISPUTE = "dispute", _("Payment disputed")
        PAYMENT_FAILED = "payment_failed", _("Payment failed")
        LICENSE_OVERDUE = "license_overdue", _("License overdue")
        STRIPE_FAILURE = "stripe_failure", _("Stripe call failed")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    department = models.ForeignKey(
        Department, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="alerts"
    )
    message = models.CharField(max_length=500)
    stripe_event_id = models.CharField(max_length=255, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.EmailField(blank=True)

    class Meta:
        ordering = ["-raised_at", "-pk"]

    def __str__(self) -> str:
        return self.message

    def resolve(self, by: str, now: datetime | None = None) -> None:
        self.resolved_at = now or timezone.now()
        self.resolved_by = by


class StripeRetry(models.Model):
    """A refund or a cancellation that Stripe did not answer (a timeout, a 5xx): recorded
    here instead of failing, and tried again by billing.retries (the billing_stripe_retries job)
    with backoff and the SAME idempotency key each time, so that Stripe applies it once even
    when an earlier attempt reached it and only the answer was lost. Billing staff see it as
    pending on the subscription's page until it is applied (or fails for a stated reason)."""

    class Kind(models.TextChoices):
        REFUND = "refund", _("Refund")
        CANCEL = "cancel", _("Cancellation")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DONE = "done", _("Applied")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="stripe_retries"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.CASCADE, related_name="stripe_retries", null=True, blank=True
    )
    # What Stripe is asked, always with this key (one form, one refund; one cancellation).
    idempotency_key = models.CharField(max_length=255, unique=True)
    amount = models.BigIntegerField(null=True, blank=True)
    actor_email = models.EmailField(blank=True)
    reason = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    stripe_object_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["department", "next_attempt_at"],
                condition=Q(state="pending"),
                name="billing_stripe_retry_due",
            )
        ]

    def __str__(self) -> str:
        state = self.get_state_display().lower()
        return f"{self.get_kind_display()} {state} ({self.idempotency_key})"
