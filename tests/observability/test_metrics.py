"""/metrics: refused to the public, answered with the bearer token or from an allowed network;
django-prometheus' request, database and cache metrics, the Celery queues' depth read from the
broker's Redis, and each department's sites and recent searches, computed at most every
METRICS_DEPARTMENTS_SECONDS."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.observability.conftest import REDIS_URL, searches_record, sites_register

TOKEN = "metrics-token-for-the-tests-0123456789"
OUTSIDE = "198.51.100.23"  # an address on the internet


@pytest.fixture(autouse=True)
def metrics_settings(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.METRICS_DEPARTMENTS_SECONDS = 300


def scrape(client, **headers) -> str:
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in the exposition text, None when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    match = re.search(r"^" + pattern + "$", text, re.MULTILINE)
    return float(match.group(1)) if match else None


@pytest.mark.parametrize("host", ["localhost", "concord.localhost", "10.42.7.13:8000"])
def test_metrics_are_refused_to_the_public(host_client, host):
    client = host_client(host)
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE).status_code == 403
    wrong = client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer guess")
    assert wrong.status_code == 403
    assert b"django_http" not in wrong.content


def test_a_token_that_is_not_the_bearer_scheme_is_refused(host_client):
    response = host_client("localhost").get(
        "/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION=f"Basic {TOKEN}"
    )
    assert response.status_code == 403


def test_metrics_are_refused_to_everyone_without_a_token_or_network(host_client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    client = host_client("localhost")
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert (
        client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer ").status_code == 403
    )


@pytest.mark.parametrize("host", ["localhost", "10.42.7.13:8000"])
def test_metrics_are_answered_with_the_token_on_any_host(host_client, host):
    text = scrape(host_client(host))
    assert "# TYPE canvass_department_sites gauge" in text


def test_metrics_are_answered_to_an_allowed_network_without_a_token(host_client):
    response = host_client("10.42.7.13:8000").get("/metrics", REMOTE_ADDR="10.42.0.9")
    assert response.status_code == 200


def test_the_allowed_network_is_the_clients_not_the_proxys(host_client, settings):
    """Behind the ingress (a proxy in the allowed network), a request from the internet has
    the internet's address."""
    settings.TRUSTED_PROXY_COUNT = 1
    response = host_client("concord.localhost").get(
        "/metrics", REMOTE_ADDR="10.42.0.2", HTTP_X_FORWARDED_FOR=OUTSIDE
    )
    assert response.status_code == 403


def test_requests_database_queries_and_cache_reads_are_counted(concord_client, host_client):
    for _ in range(3):
        assert concord_client.get("/").status_code == 200
    text = scrape(host_client("localhost"))
    landing = sample(
        text,
        "django_http_requests_total_by_view_transport_method_total",
        method="GET",
        transport="http",
        view="portal:landing",
    )
    assert landing is not None and landing >= 3
    assert (
        sample(
            text,
            "django_http_responses_total_by_status_view_method_total",
            method="GET",
            status="200",
            view="portal:landing",
        )
        or 0
    ) >= 3
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in text
    queries = sample(text, "django_db_execute_total", alias="default", vendor="postgresql")
    assert queries is not None and queries > 0
    assert (sample(text, "django_cache_get_total", backend="locmem") or 0) > 0


def test_the_queue_depth_is_read_from_the_brokers_redis(host_client, settings, redis_db6):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = REDIS_URL
    client = host_client("localhost")
    assert sample(scrape(client), "canvass_celery_queue_length", queue="celery") == 0
    redis_db6.lpush("celery", b'{"fake": "message"}', b'{"fake": "message 2"}')
    redis_db6.lpush("celery\x06\x163", b'{"fake": "prioritised"}')
    assert sample(scrape(client), "canvass_celery_queue_length", queue="celery") == 3


def test_no_queue_depth_when_tasks_run_in_process(host_client):
    assert "canvass_celery_queue_length{" not in scrape(host_client("localhost"))


def test_each_department_reports_its_own_sites_and_searches(host_client):
    sites_register("concord", 3, paused=1)
    sites_register("carrollton", 1)
    searches_record("concord", 2)
    searches_record("carrollton", 1, action="canvass_view")
    searches_record("carrollton", 4, action="reveal")  # not a search
    text = scrape(host_client("localhost"))
    concord, carrollton, littlerock = (
        {"department": "concord"},
        {"department": "carrollton"},
        {"department": "littlerock"},
    )
    assert sample(text, "canvass_department_sites", **concord) == 3
    assert sample(text, "canvass_department_sites_searchable", **concord) == 2
    assert sample(text, "canvass_department_searches_last_24h", **concord) == 2
    assert sample(text, "canvass_department_sites", **carrollton) == 1
    assert sample(text, "canvass_department_sites_searchable", **carrollton) == 1
    assert sample(text, "canvass_department_searches_last_24h", **carrollton) == 1
    assert sample(text, "canvass_department_sites", **littlerock) == 0
    assert 'department="public"' not in text


def test_a_suspended_department_is_not_counted(host_client):
    from tenants.models import Department

    Department.objects.filter(schema_name="littlerock").update(status=Department.Status.SUSPENDED)
    text = scrape(host_client("localhost"))
    assert sample(text, "canvass_department_sites", department="littlerock") is None
    assert sample(text, "canvass_department_sites", department="concord") is not None


def department_counts(queries: CaptureQueriesContext) -> list[dict[str, str]]:
    """The counting queries of the department figures (not the outbox's one platform-wide
    count, tenants.outbox, made at every scrape)."""
    return [
        query
        for query in queries.captured_queries
        if "COUNT(" in query["sql"] and "tenants_outboxmessage" not in query["sql"]
    ]


def test_department_figures_cost_one_query_per_schema_at_most_every_interval(host_client):
    from tenants.models import Department

    client = host_client("localhost")
    schemas = Department.objects.serving().count()
    with CaptureQueriesContext(connection) as first:
        text = scrape(client)
    counted = department_counts(first)
    assert len(counted) == schemas
    assert sample(text, "canvass_department_sites", department="concord") == 0

    sites_register("concord", 2)
    with CaptureQueriesContext(connection) as again:
        text = scrape(client)
    assert not department_counts(again)
    assert sample(text, "canvass_department_sites", department="concord") == 0  # cached

    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        text = scrape(client)
    assert sample(text, "canvass_department_sites", department="concord") == 2
