"""The outage page contract (issue 16), through Django's test client: a database error raised
anywhere in a request, even in the tenant middleware's host lookup before any language is
chosen, answers 503 with Retry-After and the plain page (id="canvass-outage") in the user's
language, JSON to JSON clients, never a traceback; any other error answers the 500 page."""

from __future__ import annotations

import logging

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError
from django.test import Client
from prometheus_client import REGISTRY

from tenants.middleware import DepartmentMiddleware

ENGLISH = "We can't reach our records right now, try again in a moment."
SPANISH = "En este momento no podemos acceder a nuestros registros"


def refuse(*args: object, **kwargs: object) -> None:
    raise OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        "Connection refused"
    )


def outage_count(kind: str) -> float:
    value = REGISTRY.get_sample_value("canvass_database_outage_responses_total", {"format": kind})
    return value or 0.0


@pytest.fixture
def client(settings: pytest.FixtureRequest) -> Client:
    settings.DEBUG = False  # type: ignore[attr-defined]
    return Client(raise_request_exception=False)


def assert_outage_page(response: object, text: str) -> str:
    body = response.content.decode()  # type: ignore[attr-defined]
    assert response.status_code == 503, body  # type: ignore[attr-defined]
    assert response["Retry-After"] == "30"  # type: ignore[index]
    assert response["Cache-Control"] == "no-store"  # type: ignore[index]
    assert 'id="canvass-outage"' in body
    assert text in body
    assert "Traceback" not in body and "OperationalError" not in body and "5432" not in body
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["concord.localhost", "localhost"])
def test_a_host_lookup_that_cannot_reach_the_database_answers_the_outage_page(
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    host: str,
) -> None:
    monkeypatch.setattr(DepartmentMiddleware, "get_tenant", refuse)
    before = outage_count("html")
    with caplog.at_level(logging.WARNING):
        response = client.get("/", HTTP_HOST=host, HTTP_X_REQUEST_ID="outage-test-1")
    body = assert_outage_page(response, ENGLISH)
    assert response["Content-Language"] == "en"
    # The inline style carries the request's CSP nonce, which the policy names.
    nonce = body.split('<style nonce="', 1)[1].split('"', 1)[0]
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert outage_count("html") == before + 1
    outage_lines = [r for r in caplog.records if r.name == "canvass.outage"]
    assert len(outage_lines) == 1
    assert outage_lines[0].levelno == logging.WARNING
    assert "outage-test-1" in outage_lines[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.django_db
def test_the_outage_page_speaks_spanish_from_the_header_or_the_cookie(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(DepartmentMiddleware, "get_tenant", refuse)
    by_header = client.get(
        "/", HTTP_HOST="concord.localhost", HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9"
    )
    body = assert_outage_page(by_header, SPANISH)
    assert '<html lang="es">' in body and by_header["Content-Language"] == "es"
    client.cookies["django_language"] = "es"
    by_cookie = client.get("/register/", HTTP_HOST="concord.localhost")
    assert_outage_page(by_cookie, SPANISH)


@pytest.mark.django_db
def test_a_connection_lost_later_in_the_request_answers_the_outage_page_too(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session read (after the department and the language are chosen) losing its
    connection: the same page, in the portal's language."""

    def lost(*args: object, **kwargs: object) -> None:
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(SessionStore, "load", lost)
    client.cookies["sessionid"] = "x" * 32
    response = client.get("/my/", HTTP_HOST="concord.localhost", HTTP_ACCEPT_LANGUAGE="es")
    assert_outage_page(response, SPANISH)


@pytest.mark.django_db
def test_json_clients_get_json(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(DepartmentMiddleware, "get_tenant", refuse)
    before = outage_count("json")
    device = client.post(
        "/api/device/v1/heartbeat",
        "{}",
        content_type="application/json",
        HTTP_HOST="concord.localhost",
    )
    assert device.status_code == 503 and device["Retry-After"] == "30"
    assert device.json() == {
        "error": "We can't reach our records right now, try again in a moment."
    }
    fetched = client.get(
        "/department/map/data.json",
        HTTP_HOST="concord.localhost",
        HTTP_ACCEPT="application/json",
        HTTP_ACCEPT_LANGUAGE="es",
    )
    assert fetched.status_code == 503
    assert fetched.json()["error"].startswith("En este momento no podemos acceder")
    assert outage_count("json") == before + 2


@pytest.mark.django_db
def test_other_errors_answer_the_500_page_not_the_outage_page(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(DepartmentMiddleware, "get_tenant", broken)
    response = client.get("/", HTTP_HOST="concord.localhost")
    assert response.status_code == 500
    assert "canvass-outage" not in response.content.decode()
    assert "Retry-After" not in response
