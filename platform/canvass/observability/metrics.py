"""Prometheus metrics at /metrics, for the monitoring system only.

django-prometheus counts requests, latency and responses by view (its two middlewares), database
queries (the database backend django-tenants wraps, settings.ORIGINAL_BACKEND) and cache reads
(canvass.observability.cache). This module adds, at scrape time, the Celery queues' depth (LLEN
of the broker's Redis lists) and each department's sites and recent searches. The department
figures cost one query per schema, so they are computed at most every
METRICS_DEPARTMENTS_SECONDS by one process and shared through the cache; a scrape only reads
them.

Under gunicorn's workers, prometheus_client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, set
by infra/gunicorn.conf.py) adds up what every worker counted."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, F, Func, Min, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric

from portal.registry.models import AuditEntry, Site
from tenants.http import client_ip
from tenants.models import Department, OutboxMessage

logger = logging.getLogger(__name__)

# What counts as a registry search: staff looking at sites around an incident (a canvass) or
# at exact locations on the map; both are recorded in the audit trail.
SEARCH_ACTIONS = (AuditEntry.Action.CANVASS_VIEW, AuditEntry.Action.MAP_VIEW)
SEARCH_WINDOW = timedelta(hours=24)

DEPARTMENTS_CACHE_KEY = "canvass:metrics:departments"
DEPARTMENTS_LOCK_KEY = "canvass:metrics:departments:computing"
# kombu's Redis transport keeps a queue's prioritised messages in lists of their own.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (3, 6, 9)


# --- Access: a bearer token, or an allowed network -----------------------------------------------
def metrics_allowed(request: HttpRequest) -> bool:
    """True for a request with `Authorization: Bearer METRICS_TOKEN`, or, with no token
    presented, from an address in METRICS_ALLOWED_NETWORKS (read through the trusted proxies,
    tenants.http.client_ip: a request relayed from the internet has the internet's address)."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _space, presented = header.partition(" ")
        expected = settings.METRICS_TOKEN
        return (
            bool(expected)
            and scheme.lower() == "bearer"
            and hmac.compare_digest(presented.strip().encode(), expected.encode())
        )
    address = client_ip(request)
    if address is None:
        return False
    ip = ipaddress.ip_address(address)
    return any(
        ip in ipaddress.ip_network(network, strict=False)
        for network in settings.METRICS_ALLOWED_NETWORKS
    )


def metrics_response(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # every worker's counters, added up
    else:
        registry.register(REGISTRY)  # this process's own
    registry.register(CanvassCollector())
    response = HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


# --- What the collector reports ------------------------------------------------------------------
class CanvassCollector:
    """Queue depth and per-department figures, gathered when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        queues = GaugeMetricFamily(
            "canvass_celery_queue_length",
            "Messages waiting in a Celery queue of the broker (absent when tasks run in-process)",
            labels=["queue"],
        )
        for name, length in queue_lengths().items():
            queues.add_metric([name], length)
        yield queues

        # The transactional outbox (tenants.outbox): tasks the broker has not taken yet (Redis
        # down), and how long the oldest has waited.
        backlog = outbox_backlog()
        if backlog is not None:
            yield GaugeMetricFamily(
                "canvass_outbox_undispatched",
                "Tasks in the outbox not yet handed to the broker (area notices, footage requests)",
                value=backlog[0],
            )
            yield GaugeMetricFamily(
                "canvass_outbox_oldest_undispatched_seconds",
                "How long the oldest task not yet handed to the broker has waited (0 when none)",
                value=backlog[1],
            )

        figures, age = departments_figures()
        sites = GaugeMetricFamily(
            "canvass_department_sites", "Sites registered in the department", labels=["department"]
        )
        searchable = GaugeMetricFamily(
            "canvass_department_sites_searchable",
            "Sites staff searches may show (not paused, registration confirmed)",
            labels=["department"],
        )
        searches = GaugeMetricFamily(
            "canvass_department_searches_last_24h",
            "Registry searches (canvass views, exact map views) in the last 24 hours",
            labels=["department"],
        )
        for row in figures:
            sites.add_metric([row["department"]], row["sites"])
            searchable.add_metric([row["department"]], row["searchable"])
            searches.add_metric([row["department"]], row["searches"])
        yield sites
        yield searchable
        yield searches
        if age is not None:
            yield GaugeMetricFamily(
                "canvass_department_figures_age_seconds",
                "How long ago the department figures were computed",
                value=age,
            )


def outbox_backlog() -> tuple[int, float] | None:
    """How many outbox rows wait for the broker, and the oldest one's age in seconds; None
    when the database does not answer (the gauges are left out)."""
    try:
        with schema_context(get_public_schema_name()):
            found = OutboxMessage.objects.filter(dispatched_at__isnull=True).aggregate(
                waiting=Count("id"), oldest=Min("created_at")
            )
    except DatabaseError:
        logger.warning("Metrics: the outbox could not be read")
        return None
    oldest = found["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest is not None else 0.0
    return int(found["waiting"]), max(age, 0.0)


def celery_queue_names() -> list[str]:
    configured: list[str] = settings.METRICS_CELERY_QUEUES
    if configured:
        return configured
    from canvass.celery import app

    queues = app.conf.task_queues
    if queues:
        return [queue.name for queue in queues]
    return [app.conf.task_default_queue or "celery"]


def queue_lengths() -> dict[str, int]:
    """LLEN of each queue's lists in the broker's Redis; {} without a Redis broker."""
    url = settings.CELERY_BROKER_URL
    if settings.CELERY_TASK_ALWAYS_EAGER or not url.startswith(("redis://", "rediss://")):
        return {}
    import redis

    names = celery_queue_names()
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        with client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.llen(name)
                for step in PRIORITY_STEPS:
                    pipe.llen(f"{name}{PRIORITY_SEPARATOR}{step}")
            lengths = pipe.execute()
    except (redis.RedisError, OSError):
        logger.warning("Metrics: the Celery broker did not answer")
        return {}
    finally:
        client.close()
    per_queue = len(PRIORITY_STEPS) + 1
    return {
        name: sum(lengths[index * per_queue : (index + 1) * per_queue])
        for index, name in enumerate(names)
    }


def _count_sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    """SELECT COUNT(id) of the queryset, as SQL to embed (COUNT as a plain function: no
    GROUP BY)."""
    counted = queryset.order_by().values(n=Func(F("pk"), function="COUNT"))
    sql, params = counted.query.sql_with_params()
    return sql, tuple(params)


def department_figures(department: Department) -> dict[str, Any]:
    """One department's sites, searchable sites and recent searches, in one query."""
    with schema_context(department.schema_name):
        since = timezone.now() - SEARCH_WINDOW
        parts = [
            _count_sql(Site.objects.all()),
            _count_sql(Site.objects.searchable()),
            _count_sql(AuditEntry.objects.filter(action__in=SEARCH_ACTIONS, at__gte=since)),
        ]
        sql = "SELECT " + ", ".join(f"({part})" for part, _params in parts)
        params = tuple(param for _sql, part_params in parts for param in part_params)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            sites, searchable, searches = cursor.fetchone()
    return {
        "department": department.schema_name,
        "sites": sites,
        "searchable": searchable,
        "searches": searches,
    }


def departments_figures_compute() -> list[dict[str, Any]]:
    figures = []
    for department in Department.objects.serving().order_by("schema_name"):
        try:
            figures.append(department_figures(department))
        except DatabaseError:
            logger.warning("Metrics: no figures for department %s", department.schema_name)
    return figures


def departments_figures() -> tuple[list[dict[str, Any]], float | None]:
    """The cached department figures and their age in seconds; recomputed here when older than
    METRICS_DEPARTMENTS_SECONDS, by whichever process takes the lock first (the others keep
    reporting the previous figures meanwhile)."""
    from django.core.cache import cache

    interval = settings.METRICS_DEPARTMENTS_SECONDS
    # The cache's keys carry the schema (django_tenants.cache): always the platform's here.
    with schema_context(get_public_schema_name()):
        cached = cache.get(DEPARTMENTS_CACHE_KEY)
        now = time.time()
        if cached is not None and now - cached["at"] < interval:
            return cached["rows"], now - cached["at"]
        if not cache.add(DEPARTMENTS_LOCK_KEY, 1, timeout=interval):
            return _rows_and_age(cached, now)
        try:
            rows = departments_figures_compute()
        except DatabaseError:
            logger.warning("Metrics: the database did not answer; department figures kept")
            return _rows_and_age(cached, now)
        cache.set(DEPARTMENTS_CACHE_KEY, {"at": now, "rows": rows}, timeout=interval * 10)
        cache.delete(DEPARTMENTS_LOCK_KEY)
        return rows, 0.0


def _rows_and_age(cached: dict[str, Any] | None, now: float) -> tuple[list[Any], float | None]:
    if cached is None:
        return [], None
    return cached["rows"], now - cached["at"]
