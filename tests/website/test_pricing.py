"""The pricing page shows the license price list (billing.license_pricing) and the device
models on sale (the billing catalogue), in the reader's language's money format."""

from __future__ import annotations

import pytest

from billing import license_pricing
from billing.license_pricing import LicenseTier
from billing.models import DevicePlan
from tests.website.conftest import spanish


@pytest.fixture
def no_plans(db):
    DevicePlan.objects.update(active=False)


def test_it_shows_every_license_tier(platform_client):
    page = platform_client.get("/pricing/").content.decode()

    for tier in license_pricing.LICENSE_TIERS:
        assert f"<h3>{tier.name}</h3>" in page
    assert "$1,200.00" in page
    assert "Up to 2,500 registered cameras" in page
    assert "Any number of registered cameras" in page


def test_a_changed_price_list_is_shown(platform_client, monkeypatch):
    monkeypatch.setattr(
        license_pricing,
        "LICENSE_TIERS",
        (LicenseTier("village", "Village", 300, 345_67), LicenseTier("all", "All", None, 9_000_00)),
    )

    page = platform_client.get("/pricing/").content.decode()

    assert "<h3>Village</h3>" in page
    assert "$345.67" in page
    assert "Up to 300 registered cameras" in page
    assert "$1,200.00" not in page


def test_amounts_are_written_the_spanish_way_in_spanish(platform_client):
    page = spanish(platform_client).get("/pricing/").content.decode()

    assert "Condado o estado" in page
    assert "al año" in page
    assert "$1,200.00" in page
    assert "Hasta 2,500 cámaras registradas" in page


def test_it_lists_device_models_on_sale_and_not_the_others(platform_client, no_plans):
    DevicePlan.objects.create(
        slug="web-hub-2",
        name="Web Hub 2",
        cameras_supported=2,
        storage_gb=500,
        device_price=350_00,
        yearly_price=150_00,
        description_en="Two cameras.",
        description_es="Dos cámaras.",
    )
    DevicePlan.objects.create(
        slug="web-old",
        name="Withdrawn Box",
        cameras_supported=4,
        storage_gb=1000,
        device_price=900_00,
        yearly_price=300_00,
        description_en="Old.",
        description_es="Viejo.",
        active=False,
    )

    page = platform_client.get("/pricing/").content.decode()

    assert "Web Hub 2" in page
    assert "$350.00" in page and "$150.00" in page
    assert "500 GB" in page
    assert "Withdrawn Box" not in page


def test_an_empty_catalogue_is_said_plainly(platform_client, no_plans):
    page = platform_client.get("/pricing/").content.decode()

    assert "No device models are on sale yet" in page
    assert "<table" not in page


def test_it_says_how_cities_buy(platform_client):
    page = platform_client.get("/pricing/").content.decode()

    assert "purchase order" in page
    assert "cooperative contract" in page
    assert "net 30" in page
