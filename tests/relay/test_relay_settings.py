"""Canvass's side of the relay: the relay's URL and origin per city host, the CSP update of a
live page, and production refusing a relay URL without a key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import override_settings

from portal.liveview.relay import allow_relay, relay_origin, relay_url

ROOT = Path(__file__).resolve().parents[2]


@override_settings(MEDIA_RELAY_URL="")
def test_live_view_is_off_without_a_relay_url() -> None:
    assert relay_url("concord.localhost:8000") is None
    assert relay_origin("concord.localhost") is None
    response = allow_relay(HttpResponse(), "concord.localhost")
    assert not hasattr(response, "_csp_update")


@override_settings(MEDIA_RELAY_URL="http://{host}:8890")
def test_the_relay_url_names_the_citys_hostname_without_its_port() -> None:
    assert relay_url("concord.localhost:8000") == "http://concord.localhost:8890"
    assert relay_url("carrollton.localhost") == "http://carrollton.localhost:8890"
    assert relay_origin("Concord.Localhost:8000") == "http://concord.localhost:8890"
    response = allow_relay(HttpResponse(), "concord.localhost:8000")
    assert response._csp_update == {"connect-src": ["http://concord.localhost:8890"]}


@override_settings(MEDIA_RELAY_URL="https://{host}/media/")
def test_behind_the_proxy_the_relay_is_a_path_of_the_citys_host() -> None:
    assert relay_url("concord.example") == "https://concord.example/media"
    assert relay_origin("concord.example") == "https://concord.example"


def settings_in_production(**environment: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_ENV": "production",
        "DJANGO_SETTINGS_MODULE": "canvass.settings",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://app@127.0.0.1:5432/none",
        "ALLOWED_HOSTS": ".canvass.example",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        **environment,
    }
    code = "import django.conf as c; print(repr(c.settings.MEDIA_AUTH_KEY))"
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=ROOT / "platform",
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("environment", "outcome"),
    [
        ({"MEDIA_RELAY_URL": "https://{host}/media"}, "needs MEDIA_AUTH_KEY"),
        ({"MEDIA_RELAY_URL": "https://{host}/media", "MEDIA_AUTH_KEY": "k" * 40}, "'" + "k" * 40),
        ({}, "''"),  # no relay, no key: and no development key either
    ],
)
def test_production_refuses_a_relay_url_without_a_key(environment, outcome) -> None:
    result = settings_in_production(**environment)
    assert outcome in result.stdout + result.stderr
