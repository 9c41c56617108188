"""The paths Kubernetes and Compose probe answer through the whole middleware stack when the
kubelet asks: with the pod's own address as Host, which is in no ALLOWED_HOSTS. The endpoints
come with the health work of issue 11 (django-health-check); until that is installed there is
nothing to probe and the test says so."""

from __future__ import annotations

import importlib.util

import pytest
from django.test import Client

from tests.infra.deployfiles import compose_file, named, production

health_check_installed = importlib.util.find_spec("health_check") is not None


def probe_paths() -> set[str]:
    web = named(production(), "Deployment", "canvass-web")
    (container,) = web["spec"]["template"]["spec"]["containers"]
    paths = {
        container[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    compose_test = " ".join(compose_file()["services"]["web"]["healthcheck"]["test"])
    assert "http://127.0.0.1:8000/health/live" in compose_test
    assert "'X-Forwarded-Proto': 'https'" in compose_test
    return paths


def test_the_probes_ask_the_two_health_endpoints():
    assert probe_paths() == {"/health/live", "/health/ready"}


@pytest.mark.skipif(
    not health_check_installed, reason="no health endpoints yet (django-health-check)"
)
@pytest.mark.django_db
def test_liveness_answers_the_kubelet_on_the_pods_address():
    response = Client().get(
        "/health/live", HTTP_HOST="10.1.2.3:8000", HTTP_X_FORWARDED_PROTO="https"
    )

    assert response.status_code == 200


@pytest.mark.skipif(
    not health_check_installed, reason="no health endpoints yet (django-health-check)"
)
@pytest.mark.django_db
def test_readiness_is_served_on_the_pods_address():
    response = Client().get(
        "/health/ready", HTTP_HOST="10.1.2.3:8000", HTTP_X_FORWARDED_PROTO="https"
    )

    # 200 when the database, the cache and the broker answer; 500 or 503 when one does not.
    assert response.status_code in {200, 500, 503}
