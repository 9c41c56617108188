"""The device catalog: vendor staff create and change device plans, and `catalog_sync` keeps each
plan's Stripe Product and its two Prices in step through lookup keys (a second sync creates
nothing; a changed amount makes a new Price and archives the old). Departments choose which
plans they offer, in their order (`offers_set`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing.gateway import (
    Gateway,
    StripeDict,
    StripeRefused,
    StripeUnavailable,
    gateway,
)
from billing.models import DevicePlan, PlanOffer
from tenants.models import Department

# Stripe refuses to charge less than this in most currencies (50 cents in USD).
MINIMUM_CHARGE = 50
# What vendor staff set on a plan (the slug only when it is created).
PLAN_FIELDS = (
    "name",
    "cameras_supported",
    "storage_gb",
    "video_search",
    "device_price",
    "yearly_price",
    "currency",
    "description_en",
    "description_es",
    "active",
)


def product_id_of(plan: DevicePlan) -> str:
    """The plan's Stripe Product id, fixed by its slug (so a lost local id is found again)."""
    return f"canvass_plan_{plan.slug}"


def _plan_validate(plan: DevicePlan) -> None:
    plan.currency = (plan.currency or "").strip().lower()
    problems: dict[str, list[str]] = {}
    try:
        plan.full_clean()
    except ValidationError as error:
        problems = {field: list(messages) for field, messages in error.message_dict.items()}
    if plan.device_price and 0 < plan.device_price < MINIMUM_CHARGE:
        problems.setdefault("device_price", []).append(
            "A device price is either free (0) or at least 0.50."
        )
    if plan.yearly_price is not None and plan.yearly_price < MINIMUM_CHARGE:
        problems.setdefault("yearly_price", []).append(
            "The yearly subscription must be at least 0.50."
        )
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def plan_create(*, slug: str, **fields: Any) -> DevicePlan:
    """A new device plan (not in Stripe until `catalog_sync`). ValidationError by field."""
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Unknown plan fields: {sorted(unknown)}")
    plan = DevicePlan(slug=(slug or "").strip().lower(), **fields)
    _plan_validate(plan)
    plan.save()
    return plan


@transaction.atomic
def plan_update(*, plan: DevicePlan, **fields: Any) -> DevicePlan:
    """Change a plan. Its slug is fixed once created: it names the Stripe lookup keys."""
    plan = DevicePlan.objects.select_for_update().get(pk=plan.pk)
    if "slug" in fields and fields.pop("slug") != plan.slug:
        raise ValidationError({"slug": ["A plan's code cannot change once it is created."]})
    unknown = set(fields) - set(PLAN_FIELDS)
    if unknown:
        raise TypeError(f"Unknown plan fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(plan, name, value)
    _plan_validate(plan)
    plan.save()
    return plan


@dataclass(frozen=True)
class _PriceWanted:
    lookup_key: str
    amount: int
    yearly: bool


def _product_params(plan: DevicePlan) -> StripeDict:
    return {
        "name": plan.name,
        "description": plan.description_en,
        "active": plan.active,
        "metadata": {
            "canvass_plan": plan.slug,
            "cameras_supported": str(plan.cameras_supported),
            "storage_gb": str(plan.storage_gb),
            "video_search": "true" if plan.video_search else "false",
        },
    }


def _product_ensure(client: Gateway, plan: DevicePlan) -> str:
    product_id = product_id_of(plan)
    wanted = _product_params(plan)
    product = client.product_retrieve(product_id)
    if product is None:
        client.product_create(
            {"id": product_id, **wanted}, idempotency_key=f"catalog-product-{product_id}"
        )
        return product_id
    metadata = product.get("metadata") or {}
    differs = (
        product.get("name") != wanted["name"]
        or (product.get("description") or "") != wanted["description"]
        or bool(product.get("active")) != wanted["active"]
        or any(metadata.get(key) != value for key, value in wanted["metadata"].items())
    )
    if differs:
        client.product_update(product_id, wanted)
    return product_id


def _price_matches(price: StripeDict, wanted: _PriceWanted, product_id: str, currency: str) -> bool:
    recurring = price.get("recurring") or {}
    return (
        bool(price.get("active"))
        and price.get("unit_amount") == wanted.amount
        and price.get("currency") == currency
        and price.get("product") == product_id
        and (recurring.get("interval") == "year" if wanted.yearly else not recurring)
    )


def _price_ensure(
    client: Gateway,
    plan: DevicePlan,
    product_id: str,
    wanted: _PriceWanted,
    existing: StripeDict | None,
) -> str:
    if existing is not None and _price_matches(existing, wanted, product_id, plan.currency):
        return str(existing["id"])
    params: StripeDict = {
        "product": product_id,
        "unit_amount": wanted.amount,
        "currency": plan.currency,
        "lookup_key": wanted.lookup_key,
        # The lookup key moves to the new price; the old one is archived below.
        "transfer_lookup_key": True,
        "nickname": f"{plan.name} ({'yearly subscription' if wanted.yearly else 'device'})",
        "metadata": {"canvass_plan": plan.slug},
    }
    if wanted.yearly:
        params["recurring"] = {"interval": "year"}
    replaces = existing["id"] if existing is not None else "none"
    # Names the plan's key, the amount and the price it replaces: a retry reuses the answer,
    # and going back to an earlier amount later still makes a new price.
    key = f"catalog-price-{wanted.lookup_key}-{wanted.amount}{plan.currency}-after-{replaces}"
    price = client.price_create(params, idempotency_key=key)
    if existing is not None and existing.get("active"):
        client.price_archive(str(existing["id"]))
    return str(price["id"])


def catalog_sync(*, plan: DevicePlan) -> DevicePlan:
    """Bring the plan's Stripe Product and Prices in step with the plan and record their ids.
    Raises PaymentsNotConfigured, StripeUnavailable or StripeRefused; the plan's ids change only
    when every call succeeded (a later sync finds what an interrupted one made)."""
    client = gateway()
    product_id = _product_ensure(client, plan)
    wanted = [
        _PriceWanted(plan.device_lookup_key, plan.device_price, yearly=False),
        _PriceWanted(plan.yearly_lookup_key, plan.yearly_price, yearly=True),
    ]
    found = {
        price.get("lookup_key"): price
        for price in client.prices_by_lookup_keys([price.lookup_key for price in wanted])
    }
    device_price_id, yearly_price_id = (
        _price_ensure(client, plan, product_id, price, found.get(price.lookup_key))
        for price in wanted
    )
    with transaction.atomic():
        plan = DevicePlan.objects.select_for_update().get(pk=plan.pk)
        plan.stripe_product_id = product_id
        plan.stripe_device_price_id = device_price_id
        plan.stripe_yearly_price_id = yearly_price_id
        plan.synced_at = timezone.now()
        plan.save(
            update_fields=[
                "stripe_product_id",
                "stripe_device_price_id",
                "stripe_yearly_price_id",
                "synced_at",
                "updated_at",
            ]
        )
    return plan


@dataclass(frozen=True)
class SyncResult:
    plan: DevicePlan
    error: str = ""


def catalog_sync_all() -> list[SyncResult]:
    """Sync every plan; one plan's failure is reported and the others still synced. Raises
    PaymentsNotConfigured when this installation has no Stripe key."""
    gateway()  # PaymentsNotConfigured before anything else
    results = []
    for plan in DevicePlan.objects.order_by("pk"):
        try:
            results.append(SyncResult(catalog_sync(plan=plan)))
        except StripeUnavailable as error:
            results.append(SyncResult(plan, str(error.message)))
        except StripeRefused as error:
            results.append(SyncResult(plan, f"Stripe refused: {error.message}"))
    return results


@transaction.atomic
def offers_set(*, department: Department, plans: list[DevicePlan]) -> list[PlanOffer]:
    """The plans the department offers, in this order (others withdrawn). Only this
    department's offers change."""
    if len({plan.pk for plan in plans}) != len(plans):
        raise ValidationError({"plans": ["Each plan may be offered once."]})
    # Lock the department's offers so two administrators saving at once do not interleave.
    list(PlanOffer.objects.select_for_update().filter(department=department))
    PlanOffer.objects.filter(department=department).exclude(
        plan__in=[plan.pk for plan in plans]
    ).delete()
    offers = []
    for position, plan in enumerate(plans, start=1):
        offer, _created = PlanOffer.objects.update_or_create(
            department=department, plan=plan, defaults={"position": position}
        )
        offers.append(offer)
    return offers
