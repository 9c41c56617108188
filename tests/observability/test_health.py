"""/health/live and /health/ready answer any host (a city's, the platform's, the pod's address
that Kubernetes probes send) without a department, as JSON; readiness asks the database, the
cache and the Celery broker, and says 503 when one of them does not answer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.observability.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ["concord.localhost", "localhost", "10.42.7.13:8000"]


@pytest.mark.parametrize("host", HOSTS)
def test_liveness_answers_on_every_host(host_client, host):
    response = host_client(host).get("/health/live")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "checks": {}}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.parametrize("host", HOSTS)
def test_readiness_checks_the_database_cache_and_broker_on_every_host(host_client, host):
    response = host_client(host).get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "OK",
            "cache": "OK",
            "broker": "OK (no broker: tasks run in-process)",
        },
    }


def test_the_pods_address_reaches_only_the_probes(host_client):
    """ALLOWED_HOSTS is not opened for the probes: every other path still refuses the host."""
    client = host_client("10.42.7.13:8000")
    assert client.get("/health/ready").status_code == 200
    for path in ("/", "/console/", "/department/"):
        refused = client.get(path)
        assert (refused.status_code, refused.content) == (404, b"")


def test_a_probe_on_a_closed_citys_host_is_still_answered(host_client):
    from tenants.models import Department

    Department.objects.filter(schema_name="carrollton").update(status=Department.Status.SUSPENDED)
    client = host_client("carrollton.localhost")
    assert client.get("/").status_code == 503
    assert client.get("/health/ready").status_code == 200


def test_probes_are_not_redirected_to_https(host_client, settings):
    """Probes speak plain HTTP to the pod, inside the cluster, while production redirects
    every other request to HTTPS."""
    settings.SECURE_SSL_REDIRECT = True
    client = host_client("10.42.7.13:8000")
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 200
    assert host_client("concord.localhost").get("/").status_code == 301


def test_probes_refuse_other_methods(host_client):
    assert host_client("localhost").post("/health/live").status_code == 405


def test_readiness_asks_the_broker_when_there_is_one(host_client, settings, redis_db6):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = REDIS_URL
    response = host_client("localhost").get("/health/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "OK"


def test_a_broker_that_does_not_answer_degrades_readiness_but_the_pod_stays_ready(
    host_client, settings
):
    """Redis down is survived (issue 16): the pod still serves, so it stays in the balancer."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/6"
    response = host_client("localhost").get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"] == "Unavailable: the broker does not answer"
    assert body["checks"]["database"] == "OK"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def http_get_text(url: str, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_under_gunicorn_readiness_fails_while_the_database_is_down_and_liveness_holds(tmp_path):
    """The production server (infra/gunicorn.conf.py, two workers) with a database nobody
    listens on: the pod stays alive (no restart loop) and is taken out of the load balancer.
    Its JSON log lines name the request and carry no client address, and /metrics adds up
    what both workers counted."""
    port = closed_port()
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("PYTEST")},
        "DATABASE_URL": f"postgres://canvass@127.0.0.1:{closed_port()}/canvass",
        "DATABASE_OWNER_URL": "",
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "METRICS_TOKEN": "gunicorn-test-token-0123456789",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "infra/gunicorn.conf.py", "canvass.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = http_get(f"http://127.0.0.1:{port}/health/live")
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "gunicorn did not start"
                assert server.poll() is None, "gunicorn stopped"
                time.sleep(0.2)
        assert (status, body) == (200, {"status": "ok", "checks": {}})

        status, body = http_get(
            f"http://127.0.0.1:{port}/health/ready", {"X-Request-ID": "probe-0123456789"}
        )
        assert status == 503
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] != "OK"
        assert body["checks"]["cache"] == "OK"

        # Six requests spread over the two workers; whichever worker answers the scrape adds
        # up both workers' counts (multiprocess mode).
        for _ in range(6):
            status, _body = http_get_text(
                f"http://127.0.0.1:{port}/", {"Host": "concord.localhost"}
            )
            assert status == 500  # no database
        status, metrics = http_get_text(
            f"http://127.0.0.1:{port}/metrics",
            {"Authorization": "Bearer gunicorn-test-token-0123456789"},
        )
        assert status == 200
        assert "django_http_requests_before_middlewares_total 6.0" in metrics
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    ready = next(line for line in access if "/health/ready" in str(line["message"]))
    assert ready["request_id"] == "probe-0123456789"
    assert str(ready["message"]).startswith("GET /health/ready 503")
    assert "127.0.0.1" not in output
