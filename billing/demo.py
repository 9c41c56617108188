"""Demo billing data, without Stripe: the four Little Rock-style device tiers, offered in Little
Rock and Carrollton (Concord offers none: registration only); in those two cities a few dozen
device subscriptions started over the last eighteen months in realistic states, with their
invoices and devices; and a platform license per city (Little Rock paid, Carrollton open,
Concord overdue). Sites become integrated only through billing.services.entitlement_start, so
each city's audit trail records why. Ids look like Stripe's ("sub_demo_...") but nothing here
calls Stripe. Registered as a demo seeder after the registry's (billing.apps); idempotent."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.licenses import renewal_date
from billing.models import (
    Alert,
    Customer,
    DevicePlan,
    Fulfilment,
    Invoice,
    License,
    PlanOffer,
    Subscription,
    SubscriptionEvent,
)
from billing.services import entitlement_start, history
from portal.registry.models import Site
from tenants.demo import VENDOR_EMAIL, vendor_billing_grant
from tenants.models import Department

DEMO_PREFIX = "demo"


@dataclass(frozen=True)
class DemoPlan:
    slug: str
    name: str
    cameras: int
    storage_gb: int
    video_search: bool
    device: int
    yearly: int
    en: str
    es: str


PLANS = [
    DemoPlan(
        "basic-4",
        "Basic",
        4,
        1_000,
        False,
        35_000,
        15_000,
        "A small bridge for a home or a corner shop: links up to 4 cameras and keeps 1 TB of "
        "recordings on site. Shares only under your sharing settings; you can pause it at any "
        "time.",
        "Un puente pequeño para una casa o una tienda: conecta hasta 4 cámaras y guarda 1 TB de "
        "grabaciones en el lugar. Solo comparte según su configuración; puede pausarlo cuando "
        "quiera.",
    ),
    DemoPlan(
        "standard-8",
        "Standard",
        8,
        4_000,
        False,
        120_000,
        45_000,
        "For a business or a small apartment building: links up to 8 cameras and keeps 4 TB of "
        "recordings. Shares only under your sharing settings; you can pause it at any time.",
        "Para un negocio o un edificio pequeño: conecta hasta 8 cámaras y guarda 4 TB de "
        "grabaciones. Solo comparte según su configuración; puede pausarlo cuando quiera.",
    ),
    DemoPlan(
        "pro-16",
        "Pro",
        16,
        8_000,
        True,
        310_000,
        110_000,
        "For larger properties: links up to 16 cameras, keeps 8 TB and lets you search your own "
        "video by time and motion. Police see nothing unless you share it.",
        "Para propiedades grandes: conecta hasta 16 cámaras, guarda 8 TB y le permite buscar en "
        "su propio video por hora y movimiento. La policía no ve nada si usted no lo comparte.",
    ),
    DemoPlan(
        "enterprise-64",
        "Enterprise",
        64,
        32_000,
        True,
        720_000,
        230_000,
        "For campuses, malls and housing authorities: links up to 64 cameras, keeps 32 TB and "
        "searches video across all of them. Police see nothing unless you share it.",
        "Para campus, centros comerciales y autoridades de vivienda: conecta hasta 64 cámaras, "
        "guarda 32 TB y busca en el video de todas. La policía no ve nada si usted no lo comparte.",
    ),
]
# Which plans each city offers, in its order (Concord: none, registration only).
OFFERS = {
    "littlerock": ["basic-4", "standard-8", "pro-16", "enterprise-64"],
    "carrollton": ["standard-8", "basic-4", "pro-16"],
}
SUBSCRIPTIONS = {"littlerock": 36, "carrollton": 22}
# (status, PO number, amount in cents, days since the period started)
LICENSES = {
    "littlerock": (License.Status.PAID, "LR-2026-0418", 12_893_700, 120),
    "carrollton": (License.Status.OPEN, "CARR-PO-26-113", 2_400_000, 10),
    "concord": (License.Status.OVERDUE, "CPD-4471", 1_850_000, 61),
}
# The states a city's subscriptions are in, in the order they are dealt out.
SCENARIOS = ["past_due", "canceled", "complimentary", "disputed", "canceled", "past_due"]
CARRIERS = [("UPS", "1Z999AA1"), ("FedEx", "7749"), ("USPS", "9400111")]


def billing_seed(department: Department) -> list[str]:
    """The demo's billing picture for this city (run inside its schema, after the registry's)."""
    _vendor_runs_billing()
    plans = _plans()
    _offers(department, plans)
    lines = []
    count = _subscriptions(department, plans)
    if count:
        lines.append(f"billing: {count} device subscriptions (no Stripe calls in the demo)")
    license_ = _license(department)
    if license_ is not None:
        lines.append(
            f"license: {license_.get_status_display().lower()}, PO {license_.po_number}, "
            f"renews {license_.period_end:%Y-%m-%d}"
        )
    return lines


def _vendor_runs_billing() -> None:
    with schema_context("public"):
        vendor = get_user_model().objects.filter(email=VENDOR_EMAIL).first()
        if vendor is not None:
            vendor_billing_grant(vendor)


def _plans() -> dict[str, DevicePlan]:
    plans = {}
    for demo in PLANS:
        plan, _created = DevicePlan.objects.get_or_create(
            slug=demo.slug,
            defaults={
                "name": demo.name,
                "cameras_supported": demo.cameras,
                "storage_gb": demo.storage_gb,
                "video_search": demo.video_search,
                "device_price": demo.device,
                "yearly_price": demo.yearly,
                "currency": "usd",
                "description_en": demo.en,
                "description_es": demo.es,
            },
        )
        plans[demo.slug] = plan
    return plans


def _offers(department: Department, plans: dict[str, DevicePlan]) -> None:
    for position, slug in enumerate(OFFERS.get(department.schema_name, []), start=1):
        PlanOffer.objects.get_or_create(
            department=department, plan=plans[slug], defaults={"position": position}
        )


def _demo_id(kind: str, department: Department, *parts: object) -> str:
    return "_".join([kind, DEMO_PREFIX, department.schema_name, *(str(part) for part in parts)])


@transaction.atomic
def _subscriptions(department: Department, plans: dict[str, DevicePlan]) -> int:
    wanted = SUBSCRIPTIONS.get(department.schema_name, 0)
    prefix = _demo_id("sub", department, "")
    if (
        not wanted
        or Subscription.objects.filter(stripe_subscription_id__startswith=prefix).exists()
    ):
        return 0
    rng = random.Random(f"billing-{department.schema_name}")
    now = timezone.now()
    offered = [plans[slug] for slug in OFFERS[department.schema_name]]
    weights = [45, 30, 18, 7][: len(offered)]
    # The demo business owner (Sam) first, then mostly businesses, a few homes.
    sam = Site.objects.filter(participant__user__email__startswith="sam@").order_by("pk").first()
    businesses = list(
        Site.objects.filter(kind=Site.Kind.BUSINESS)
        .exclude(participant__user__email__startswith="sam@")
        .order_by("pk")
    )
    homes = list(
        Site.objects.filter(kind=Site.Kind.HOME)
        .exclude(participant__user__email__startswith="maria@")
        .order_by("pk")
    )
    rng.shuffle(businesses)
    rng.shuffle(homes)
    picked = ([sam] if sam else []) + businesses[: wanted * 3 // 4] + homes
    picked = picked[:wanted]
    # Sam's shop (the first) is active and online, for the resident pages.
    scenarios = ["active", *SCENARIOS] + ["active"] * len(picked)
    for number, (site, scenario) in enumerate(zip(picked, scenarios, strict=False)):
        plan = offered[1] if number == 0 else rng.choices(offered, weights)[0]
        # Every fifth one bought in the last few weeks: its device still on its way.
        days = rng.randint(2, 25) if number % 5 == 4 else rng.randint(30, 540)
        started = now - timedelta(days=days, hours=rng.randint(0, 23))
        _subscription(department, number, site, plan, scenario, started, now, rng)
    return len(picked)


def _subscription(
    department: Department,
    number: int,
    site: Site,
    plan: DevicePlan,
    scenario: str,
    started: datetime,
    now: datetime,
    rng: random.Random,
) -> Subscription:
    customer, _created = Customer.objects.get_or_create(
        department=department,
        participant_id=site.participant_id,
        defaults={
            "stripe_customer_id": _demo_id("cus", department, site.participant_id),
            "email": site.contact_email,
        },
    )
    years = (now - started).days // 365
    period_end = started + timedelta(days=365 * (years + 1))
    status = {
        "past_due": Subscription.Status.PAST_DUE,
        "canceled": Subscription.Status.CANCELED,
    }.get(scenario, Subscription.Status.ACTIVE)
    ended = scenario == "canceled"
    subscription = Subscription.objects.create_for_site(
        department=department,
        site=site,
        plan=plan,
        customer=customer,
        stripe_subscription_id=_demo_id("sub", department, f"{number:03d}"),
        status=status,
        current_period_end=period_end,
        started_at=started,
        stripe_state_at=now,
        complimentary_until=now + timedelta(days=200) if scenario == "complimentary" else None,
        ended_at=started + timedelta(days=rng.randint(40, 200)) if ended else None,
    )
    Subscription.objects.filter(pk=subscription.pk).update(created_at=started)
    first = _invoice(department, subscription, 0, plan.device_price + plan.yearly_price, started)
    renewals = [
        _invoice(department, subscription, year, plan.yearly_price, started + timedelta(365 * year))
        for year in range(1, years + 1)
        if not ended
    ]
    _line(subscription, "status:active", started, detail="checkout -> active")
    if ended:
        # Cancelled before it was ever paid for long: never integrated, its device returned.
        _line(subscription, "status:canceled", subscription.ended_at, reason="Owner cancelled.")
        return subscription
    entitlement_start(
        subscription=subscription, stripe_event_id=_demo_id("evt", department, number)
    )
    SubscriptionEvent.objects.filter(subscription=subscription, kind="entitlement_started").update(
        at=started + timedelta(minutes=2)
    )
    _fulfilment(subscription, number, started, now, rng)
    if scenario == "past_due":
        failed = _invoice(department, subscription, years + 1, plan.yearly_price, now, paid=False)
        failed.payment_failed_at = now - timedelta(days=rng.randint(1, 5))
        failed.save(update_fields=["payment_failed_at"])
        # The grace period a failed renewal starts (after the entitlement, which clears it).
        Subscription.objects.filter(pk=subscription.pk).update(
            grace_until=now + timedelta(days=rng.randint(3, 12))
        )
        _line(
            subscription, "status:past_due", failed.payment_failed_at, detail="active -> past_due"
        )
    if scenario == "disputed":
        disputed = (renewals or [first])[-1]
        disputed.disputed = True
        disputed.save(update_fields=["disputed"])
        Alert.objects.get_or_create(
            kind=Alert.Kind.DISPUTE,
            subscription=subscription,
            defaults={
                "department": department,
                "message": f"The payment of {disputed.number} at {site.address} is disputed.",
                "raised_at": now - timedelta(days=2),
            },
        )
    if scenario == "complimentary":
        _line(
            subscription,
            "complimentary",
            now - timedelta(days=20),
            actor_email=VENDOR_EMAIL,
            reason="Pilot partner: six months without charge.",
        )
    return subscription


def _invoice(
    department: Department,
    subscription: Subscription,
    sequence: int,
    amount: int,
    created: datetime,
    *,
    paid: bool = True,
) -> Invoice:
    number = (subscription.stripe_subscription_id or "").rsplit("_", 1)[-1]
    return Invoice.objects.create(
        stripe_invoice_id=_demo_id("in", department, number, sequence),
        department=department,
        subscription=subscription,
        number=f"CANV-{department.schema_name[:3].upper()}-{number}-{sequence + 1}",
        status=Invoice.Status.PAID if paid else Invoice.Status.OPEN,
        amount_due=amount,
        amount_paid=amount if paid else 0,
        currency=subscription.currency,
        # No hosted links in the demo: the pages show the invoice without one.
        hosted_invoice_url="",
        charge_id=_demo_id("ch", department, number, sequence) if paid else "",
        created=created,
        paid_at=created + timedelta(minutes=1) if paid else None,
    )


def _line(
    subscription: Subscription,
    kind: str,
    at: datetime | None,
    *,
    detail: str = "",
    reason: str = "",
    actor_email: str = "",
) -> None:
    line = history(subscription, kind, detail=detail, reason=reason, actor_email=actor_email)
    SubscriptionEvent.objects.filter(pk=line.pk).update(at=at or timezone.now())


def _fulfilment(
    subscription: Subscription, number: int, started: datetime, now: datetime, rng: random.Random
) -> None:
    age = (now - started).days
    state = (
        Fulfilment.State.ORDERED
        if age < 5
        else Fulfilment.State.SHIPPED
        if age < 12
        else Fulfilment.State.INSTALLED
        if age < 20
        else Fulfilment.State.ONLINE
    )
    carrier, prefix = CARRIERS[number % len(CARRIERS)]
    steps = {
        "ordered_at": started + timedelta(minutes=2),
        "shipped_at": started + timedelta(days=2),
        "installed_at": started + timedelta(days=6),
        "online_at": started + timedelta(days=6, hours=3),
    }
    reached = Fulfilment.ORDER.index(Fulfilment.State(state))
    Fulfilment.objects.filter(subscription=subscription).update(
        state=state,
        ordered_at=steps["ordered_at"],
        carrier=carrier if reached >= 1 else "",
        tracking_number=f"{prefix}{rng.randint(10**9, 10**10 - 1)}" if reached >= 1 else "",
        shipped_at=steps["shipped_at"] if reached >= 1 else None,
        installed_at=steps["installed_at"] if reached >= 2 else None,
        online_at=steps["online_at"] if reached >= 3 else None,
    )


@transaction.atomic
def _license(department: Department) -> License | None:
    demo = LICENSES.get(department.schema_name)
    if demo is None:
        return None
    invoice_id = _demo_id("in", department, "license")
    existing = License.objects.filter(stripe_invoice_id=invoice_id).first()
    if existing is not None:
        return existing
    status, po_number, amount, days = demo
    now = timezone.now()
    start: date = (now - timedelta(days=days)).date()
    due = start + timedelta(days=30)
    Customer.objects.get_or_create(
        stripe_customer_id=_demo_id("cus", department, "department"),
        defaults={"department": department, "participant_id": None},
    )
    license_ = License.objects.create(
        department=department,
        period_start=start,
        period_end=renewal_date(start),
        amount=amount,
        currency="usd",
        po_number=po_number,
        contract="Sourcewell 010720" if department.schema_name == "littlerock" else "",
        status=status,
        stripe_invoice_id=invoice_id,
        due_date=due,
        paid_at=now - timedelta(days=days - 21) if status == License.Status.PAID else None,
        overdue_notified_at=now - timedelta(days=days - 31)
        if status == License.Status.OVERDUE
        else None,
    )
    Invoice.objects.create(
        stripe_invoice_id=invoice_id,
        department=department,
        license=license_,
        number=f"CANV-LIC-{department.schema_name[:3].upper()}-{start:%Y}",
        status=Invoice.Status.PAID if status == License.Status.PAID else Invoice.Status.OPEN,
        amount_due=amount,
        amount_paid=amount if status == License.Status.PAID else 0,
        currency="usd",
        created=now - timedelta(days=days),
        paid_at=license_.paid_at,
    )
    if status == License.Status.OVERDUE:
        Alert.objects.create(
            kind=Alert.Kind.LICENSE_OVERDUE,
            department=department,
            message=(
                f"{department.name}'s license ({start:%Y}, PO {po_number}) was due "
                f"{due:%Y-%m-%d} and is unpaid."
            ),
            raised_at=license_.overdue_notified_at or now,
        )
    return license_
