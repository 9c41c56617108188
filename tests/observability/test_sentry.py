"""Sentry: started only with SENTRY_DSN, and nothing personal leaves in an event (cookies,
authorization and address headers, bodies, signed links' query strings, the user's email and
address, emails and addresses in messages)."""

from __future__ import annotations

import gzip
import http.server
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from canvass.observability.errors import event_scrub

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "alice.moreno@example.org"
ADDRESS = "203.0.113.77"


def django_event() -> dict[str, object]:
    """An error event as the SDK's Django integration builds it, before before_send."""
    return {
        "level": "error",
        "logger": "django.request",
        "message": f"Internal Server Error: /verify/eyJ4IjoxfQ:1vN2:sig/ for {EMAIL}",
        "exception": {
            "values": [
                {
                    "type": "IntegrityError",
                    "value": f"duplicate key value: (email)=({EMAIL}) from {ADDRESS}",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "site_register",
                                "vars": {"email": f"'{EMAIL}'", "ip": f"'{ADDRESS}'"},
                            }
                        ]
                    },
                }
            ]
        },
        "request": {
            "url": "https://concord.canvass.example/verify/eyJ4IjoxfQ:1vN2:sig/",
            "method": "POST",
            "query_string": "token=eyJ4IjoxfQ:1vN2:sig&next=/my/",
            "cookies": {"sessionid": "abc", "csrftoken": "def"},
            "data": {"contact_email": EMAIL, "address": "77 Union St S"},
            "env": {"REMOTE_ADDR": ADDRESS, "SERVER_NAME": "concord.canvass.example"},
            "headers": {
                "Host": "concord.canvass.example",
                "Cookie": "sessionid=abc",
                "Authorization": "Bearer secret",
                "X-Forwarded-For": ADDRESS,
                "X-Real-Ip": ADDRESS,
                "User-Agent": "Mozilla/5.0",
                "X-Request-Id": "req-00000001",
            },
        },
        "user": {"id": "42", "email": EMAIL, "ip_address": ADDRESS, "username": EMAIL},
        "breadcrumbs": {
            "values": [{"category": "django.request", "message": f"sign-in from {ADDRESS}"}]
        },
        "extra": {"owner": EMAIL},
        "tags": {"department": "concord"},
    }


def test_before_send_removes_personal_data_from_a_django_error():
    event = event_scrub(django_event(), {})
    text = json.dumps(event)
    assert EMAIL not in text and ADDRESS not in text and "alice" not in text
    assert "eyJ4IjoxfQ" not in text  # the signed link's token
    request = event["request"]
    assert "cookies" not in request and "data" not in request and "env" not in request
    assert request["query_string"] == "[Filtered]"
    assert request["url"] == "https://concord.canvass.example/verify/[token]/"
    assert request["headers"]["Cookie"] == "[Filtered]"
    assert request["headers"]["Authorization"] == "[Filtered]"
    assert request["headers"]["X-Forwarded-For"] == "[Filtered]"
    assert request["headers"]["X-Real-Ip"] == "[Filtered]"
    # What helps to find the bug stays.
    assert request["headers"]["User-Agent"] == "Mozilla/5.0"
    assert request["headers"]["X-Request-Id"] == "req-00000001"
    assert request["method"] == "POST"
    assert event["user"] == {"id": "42"}
    assert event["exception"]["values"][0]["value"] == (
        "duplicate key value: (email)=([email]) from [ip]"
    )
    assert event["tags"] == {"department": "concord"}


class _Collector(http.server.BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            # The SDK compresses with brotli when the module is installed (WeasyPrint's fonts
            # bring it).
            import brotli

            body = brotli.decompress(body)
        self.bodies.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def sentry_server() -> Iterator[tuple[int, list[bytes]]]:
    """A stand-in for Sentry on loopback, keeping the envelopes it receives."""
    _Collector.bodies = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], _Collector.bodies
    server.shutdown()
    server.server_close()


SCRIPT = f"""
import django
django.setup()
import sentry_sdk
print("active", sentry_sdk.get_client().is_active())
if sentry_sdk.get_client().is_active():
    try:
        raise ValueError("no account for {EMAIL} at {ADDRESS}")
    except ValueError:
        sentry_sdk.capture_exception()
    sentry_sdk.flush(5)
"""


def run_django(dsn: str) -> str:
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("SENTRY_")},
        "DJANGO_SETTINGS_MODULE": "canvass.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        # Settings only: no database is asked (and none is started).
        "DATABASE_URL": "postgres://canvass@127.0.0.1:1/canvass",
        "SENTRY_DSN": dsn,
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_sentry_is_not_started_without_a_dsn(sentry_server):
    _port, bodies = sentry_server
    assert "active False" in run_django("")
    assert bodies == []


def test_with_a_dsn_errors_reach_sentry_without_personal_data(sentry_server):
    port, bodies = sentry_server
    assert "active True" in run_django(f"http://publickey@127.0.0.1:{port}/1")
    received = b"".join(bodies).decode()
    assert "ValueError" in received
    assert "no account for [email] at [ip]" in received
    assert EMAIL not in received and ADDRESS not in received
