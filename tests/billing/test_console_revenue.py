"""Recurring revenue in the billing console: per city and in total (live, not complimentary;
MRR = yearly / 12), and month by month over the last 24 months from starts and ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from billing.console import month_start, revenue_by_city, revenue_series
from billing.models import Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(console_subscription):
    concord_a = console_subscription("concord", email="a@example.org")
    concord_b = console_subscription("concord", email="b@example.org")
    rock = console_subscription(
        "littlerock", email="c@example.org", plan_slug="console-pro", yearly_price=230_000
    )
    comp = console_subscription("littlerock", email="d@example.org")
    ended = console_subscription("carrollton", email="e@example.org")
    Subscription.objects.filter(pk=comp.subscription.pk).update(
        status="trialing", complimentary_until=datetime(2099, 1, 1, tzinfo=UTC)
    )
    Subscription.objects.filter(pk=ended.subscription.pk).update(
        status="canceled", ended_at=timezone.now()
    )
    return concord_a, concord_b, rock, comp, ended


def test_revenue_per_city_and_in_total(world):
    cities, totals = revenue_by_city()
    rows = {
        (row.name, row.currency): (row.subscriptions, row.yearly, row.monthly) for row in cities
    }
    assert rows == {
        ("Concord Police Department", "usd"): (2, 30_000, 2_500),
        ("Little Rock Police Department", "usd"): (1, 230_000, 19_167),
    }
    assert [(t.currency, t.subscriptions, t.yearly, t.monthly) for t in totals] == [
        ("usd", 3, 260_000, 21_667)
    ]


def test_the_revenue_page_shows_the_numbers(world, platform_client, vendor, sign_in):
    sign_in(platform_client, vendor)
    page = platform_client.get("/console/billing/revenue/").content.decode()
    assert "<td>Concord Police Department</td><td>2</td><td>$25.00</td><td>$300.00</td>" in page
    assert "<td>1</td><td>$191.67</td><td>$2,300.00</td>" in page
    assert '<th scope="row">Total</th><td>3</td><td>$216.67</td><td>$2,600.00</td>' in page
    assert "Carrollton" not in page.split("<tfoot>")[0]
    assert page.count("<rect ") == 24 and "<script" not in page


def test_the_series_follows_starts_and_ends_month_by_month(world):
    concord_a, concord_b, rock, _comp, _ended = world
    now = timezone.now()
    # a: running for the whole window and before; b: started 5 months ago; rock: started
    # 30 months ago and ended 2 months ago; the others now (ended: started and ended now).
    Subscription.objects.filter(pk=concord_a.subscription.pk).update(
        started_at=month_start(now, 40)
    )
    Subscription.objects.filter(pk=concord_b.subscription.pk).update(
        started_at=month_start(now, 5).replace(day=10)
    )
    Subscription.objects.filter(pk=rock.subscription.pk).update(
        started_at=month_start(now, 30), ended_at=month_start(now, 2).replace(day=3)
    )
    points = revenue_series(now=now)
    assert len(points) == 24
    assert points[0].month == month_start(now, 23) and points[-1].month == month_start(now)
    by_age = {23 - index: (point.yearly, point.subscriptions) for index, point in enumerate(points)}
    assert by_age[23] == (15_000 + 230_000, 2)
    assert by_age[6] == (15_000 + 230_000, 2)
    assert by_age[5] == (30_000 + 230_000, 3)
    assert by_age[3] == (30_000 + 230_000, 3)
    assert by_age[2] == (30_000, 2)
    # This month: a, b and the complimentary one (the ended one started and ended now).
    assert by_age[0] == (30_000 + 15_000, 3)
    assert points[-1].monthly == round(45_000 / 12)


def test_the_revenue_page_counts_a_change_at_once_despite_its_cache(
    world, platform_client, vendor, sign_in
):
    sign_in(platform_client, vendor)
    total = '<th scope="row">Total</th><td>{}</td>'
    assert total.format(3) in platform_client.get("/console/billing/revenue/").content.decode()
    concord_a = world[0].subscription
    concord_a.status = Subscription.Status.CANCELED
    concord_a.save()  # what every billing service does (a queryset update would not be seen)
    assert total.format(2) in platform_client.get("/console/billing/revenue/").content.decode()
