"""Device plans for tests: made in the public schema, offered by a city, and (when a fake Stripe
is injected) synced to Stripe Products and Prices through the gateway, as the catalog would."""

from __future__ import annotations

from billing.catalog import catalog_sync
from billing.models import DevicePlan, PlanOffer
from tenants.models import Department

HUB_4 = {
    "slug": "hub-4",
    "name": "Hub 4",
    "cameras_supported": 4,
    "storage_gb": 500,
    "video_search": False,
    "device_price": 35_000,
    "yearly_price": 15_000,
    "description_en": "Links up to four cameras; keeps a week of video on the device.",
    "description_es": "Conecta hasta cuatro cámaras; guarda una semana de video en el equipo.",
}
HUB_16 = {
    "slug": "hub-16",
    "name": "Hub 16",
    "cameras_supported": 16,
    "storage_gb": 4_000,
    "video_search": True,
    "device_price": 180_000,
    "yearly_price": 60_000,
    "description_en": "Sixteen cameras, a month of video, and search by time and motion.",
    "description_es": "Dieciséis cámaras, un mes de video y búsqueda por hora y movimiento.",
}


def plan_make(fields: dict[str, object]) -> DevicePlan:
    return DevicePlan.objects.create(**fields)


def plan_sync(plan: DevicePlan) -> DevicePlan:
    """The plan's Product and Prices at the (fake) Stripe, through the catalog's own sync."""
    return catalog_sync(plan=plan)


def plans_offer(schema_name: str, *plans: DevicePlan) -> None:
    """The city offers these plans, in this order."""
    department = Department.objects.get(schema_name=schema_name)
    for position, plan in enumerate(plans):
        PlanOffer.objects.create(department=department, plan=plan, position=position)
