"""Reads for the vendor's billing console: subscriptions across cities, one subscription's whole
story, recurring revenue (per city, in total, and month by month), the payments that went wrong,
open alerts and the device fulfilment queue. Public schema only: no city's schema is opened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from billing.models import (
    Alert,
    DevicePlan,
    Fulfilment,
    Invoice,
    StripeRetry,
    Subscription,
    SubscriptionEvent,
)
from tenants.models import Department

SERIES_MONTHS = 24


def subscriptions_find(
    *,
    department: Department | None = None,
    status: str = "",
    plan: DevicePlan | None = None,
    query: str = "",
) -> QuerySet[Subscription]:
    """Subscriptions of every city, newest first, narrowed by city, status and plan, and
    searched by site address, Stripe ids (subscription, customer, Checkout session) or the
    customer's email."""
    found = Subscription.objects.select_related("department", "plan", "customer", "fulfilment")
    if department is not None:
        found = found.filter(department=department)
    if status:
        found = found.filter(status=status)
    if plan is not None:
        found = found.filter(plan=plan)
    query = query.strip()
    if query:
        found = found.filter(
            Q(site_address__icontains=query)
            | Q(stripe_subscription_id=query)
            | Q(checkout_session_id=query)
            | Q(customer__stripe_customer_id=query)
            | Q(customer__email__iexact=query)
        )
    return found.order_by("-created_at", "-pk")


@dataclass(frozen=True)
class SubscriptionStory:
    subscription: Subscription
    events: list[SubscriptionEvent]
    invoices: list[Invoice]
    fulfilment: Fulfilment | None
    alerts: list[Alert]
    # Refunds and cancellations Stripe did not answer, queued (billing.retries).
    pending: list[StripeRetry]


def subscription_story(subscription_id: int) -> SubscriptionStory | None:
    """One subscription with its history, invoices, device and open alerts."""
    subscription = (
        Subscription.objects.select_related("department", "plan", "customer")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:
        return None
    return SubscriptionStory(
        subscription=subscription,
        events=list(subscription.events.order_by("-at", "-pk")),
        invoices=list(subscription.invoices.order_by("-created", "-pk")),
        fulfilment=Fulfilment.objects.filter(subscription=subscription).first(),
        alerts=list(subscription.alerts.filter(resolved_at__isnull=True)),
        pending=list(
            subscription.stripe_retries.filter(state=StripeRetry.State.PENDING).select_related(
                "invoice"
            )
        ),
    )


@dataclass(frozen=True)
class CityRevenue:
    department_id: int | None
    name: str
    currency: str
    subscriptions: int
    yearly: int

    @property
    def monthly(self) -> int:
        """MRR is the yearly amount over twelve (every plan is billed yearly)."""
        return round(self.yearly / 12)


def revenue_by_city() -> tuple[list[CityRevenue], list[CityRevenue]]:
    """Recurring revenue of revenue-bearing subscriptions (live at Stripe, not complimentary),
    per city and currency (one grouped query), and the totals per currency (summed from those
    rows: at most one per city and currency)."""
    cities = [
        CityRevenue(
            row["department_id"], row["department__name"], row["currency"], row["n"], row["y"]
        )
        for row in Subscription.objects.revenue_bearing()
        .values("department_id", "department__name", "currency")
        .annotate(n=Count("pk"), y=Sum("yearly_amount"))
        .order_by("department__name", "department_id", "currency")
    ]
    sums: dict[str, tuple[int, int]] = {}
    for city in cities:
        count, yearly = sums.get(city.currency, (0, 0))
        sums[city.currency] = (count + city.subscriptions, yearly + city.yearly)
    totals = [
        CityRevenue(None, "", currency, count, yearly)
        for currency, (count, yearly) in sorted(sums.items())
    ]
    return cities, totals


@dataclass(frozen=True)
class RevenuePoint:
    month: datetime
    yearly: int
    subscriptions: int

    @property
    def monthly(self) -> int:
        return round(self.yearly / 12)


# Running at a month's end = started by then and not ended by then. Every subscription adds its
# yearly amount in the month it started and takes it away in the month it ended; a running sum
# over the months gives each month's figure in one pass over the rows (those started before the
# window count from its first month). A cancelled subscription that was never entitled has no
# ended_at: it ended when it last changed.
_SERIES_SQL = """
WITH months AS (
    SELECT generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '1 month')
        AS month
),
running AS (
    SELECT
        started_at AS at_start,
        COALESCE(ended_at, CASE WHEN status IN ('canceled', 'unpaid') THEN updated_at END)
            AS at_end,
        yearly_amount
    FROM billing_subscription
    WHERE currency = %(currency)s
      AND started_at IS NOT NULL
      AND status NOT IN ('checkout', 'incomplete', 'incomplete_expired')
),
changes AS (
    SELECT GREATEST(date_trunc('month', at_start, 'UTC'), %(first)s::timestamptz) AS month,
           SUM(yearly_amount) AS amount, COUNT(*) AS n
    FROM running
    WHERE at_end IS NULL OR at_end >= at_start
    GROUP BY 1
    UNION ALL
    SELECT GREATEST(date_trunc('month', at_end, 'UTC'), %(first)s::timestamptz),
           -SUM(yearly_amount), -COUNT(*)
    FROM running
    WHERE at_end IS NOT NULL AND at_end >= at_start
    GROUP BY 1
)
SELECT months.month,
       COALESCE(SUM(SUM(changes.amount)) OVER (ORDER BY months.month), 0)::bigint,
       COALESCE(SUM(SUM(changes.n)) OVER (ORDER BY months.month), 0)::bigint
FROM months LEFT JOIN changes ON changes.month = months.month
GROUP BY months.month
ORDER BY months.month
"""


def month_start(moment: datetime, months_back: int = 0) -> datetime:
    """The first instant (UTC) of the month `months_back` months before `moment`'s."""
    moment = moment.astimezone(UTC)
    index = moment.year * 12 + moment.month - 1 - months_back
    return moment.replace(
        year=index // 12, month=index % 12 + 1, day=1, hour=0, minute=0, second=0, microsecond=0
    )


def revenue_series(
    *, currency: str = "usd", months: int = SERIES_MONTHS, now: datetime | None = None
) -> list[RevenuePoint]:
    """Yearly recurring revenue of the subscriptions running at the end of each of the last
    `months` months (the current month: now), by their start and end; the model keeps no
    history of complimentary periods, so they are not taken out of past months."""
    now = now or timezone.now()
    first, last = month_start(now, months - 1), month_start(now)
    with connection.cursor() as cursor:
        cursor.execute(_SERIES_SQL, {"first": first, "last": last, "currency": currency})
        return [RevenuePoint(month, yearly, n) for month, yearly, n in cursor.fetchall()]


# The revenue page reads every subscription (100,000 take a quarter of a second here), so its
# figures are computed at most once a minute, and again as soon as any subscription changes:
# billing.apps bumps this version on every save or delete of one (revenue_changed). The minute
# bounds how late a complimentary period that ends by the clock alone is counted again.
REVENUE_CACHE_SECONDS = 60
REVENUE_VERSION_KEY = "billing:revenue:version"


@dataclass(frozen=True)
class Revenue:
    cities: list[CityRevenue]
    totals: list[CityRevenue]
    series: dict[str, list[RevenuePoint]]


def revenue() -> Revenue:
    """Recurring revenue per city and in total, and its 24-month series per currency."""
    key = f"billing:revenue:{cache.get_or_set(REVENUE_VERSION_KEY, 0)}"
    figures = cache.get(key)
    if figures is None:
        cities, totals = revenue_by_city()
        currencies = [total.currency for total in totals] or currencies_billed()
        figures = Revenue(
            cities, totals, {currency: revenue_series(currency=currency) for currency in currencies}
        )
        cache.set(key, figures, REVENUE_CACHE_SECONDS)
    return figures


def revenue_changed(**_kwargs: object) -> None:
    """A subscription was saved or deleted: the next revenue page computes afresh."""
    try:
        cache.incr(REVENUE_VERSION_KEY)
    except ValueError:
        cache.set(REVENUE_VERSION_KEY, 1, None)


def currencies_billed() -> list[str]:
    return list(
        Subscription.objects.exclude(started_at=None)
        .order_by("currency")
        .values_list("currency", flat=True)
        .distinct()
    )


def payments_failed() -> QuerySet[Invoice]:
    """Invoices whose payment failed, and open invoices of past-due subscriptions."""
    return (
        Invoice.objects.filter(
            Q(payment_failed_at__isnull=False)
            | Q(status=Invoice.Status.OPEN, subscription__status=Subscription.Status.PAST_DUE)
        )
        .exclude(status__in=[Invoice.Status.PAID, Invoice.Status.VOID])
        .select_related("department", "subscription", "subscription__plan")
        .order_by("-created", "-pk")
    )


def disputes() -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(disputed=True)
        .select_related("department", "subscription", "subscription__plan")
        .order_by("-created", "-pk")
    )


def alerts_open() -> QuerySet[Alert]:
    return (
        Alert.objects.filter(resolved_at__isnull=True)
        .select_related("department", "subscription")
        .order_by("-raised_at", "-pk")
    )


def fulfilment_queue() -> QuerySet[Fulfilment]:
    """Devices still on their way (ordered, shipped, installed) and devices online once that
    went silent (device_offline_since), oldest order first."""
    return (
        Fulfilment.objects.exclude(state=Fulfilment.State.RETURNED)
        .exclude(state=Fulfilment.State.ONLINE, device_offline_since__isnull=True)
        .select_related("subscription", "subscription__department", "subscription__plan")
        .order_by("ordered_at", "pk")
    )
