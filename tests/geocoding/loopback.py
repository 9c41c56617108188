"""A geocoder on loopback for the tests: one real HTTP server that answers Nominatim's /search
and /reverse and the Census Bureau's /locations/onelineaddress in their documented JSON, and
misbehaves on request (slow, garbage, error pages)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

# Nominatim's jsonv2 search answer (a list of places; lat and lon are strings).
NOMINATIM_PLACES = {
    "77 union st s": [
        {
            "place_id": 1,
            "lat": "35.4081",
            "lon": "-80.5806",
            "display_name": "77, Union Street South, Concord, Cabarrus County, NC, 28025, USA",
            "category": "place",
            "type": "house",
        },
        {
            "place_id": 2,
            "lat": "35.3990",
            "lon": "-80.5850",
            "display_name": "77, Union Street South, Concord, NC, 28027, USA",
        },
    ],
}
# Nominatim's jsonv2 reverse answer, keyed by "lat,lon" as sent.
NOMINATIM_ADDRESSES = {
    "35.408100,-80.580600": {
        "lat": "35.40811",
        "lon": "-80.58061",
        "display_name": "77, Union Street South, Concord, NC, 28025, USA",
    },
}
# The Census geocoder's onelineaddress answer shape.
CENSUS_MATCHES = {
    "77 union st s, concord, nc": [
        {
            "tigerLine": {"side": "L", "tigerLineId": "82670543"},
            "coordinates": {"x": -80.58062, "y": 35.40809},
            "addressComponents": {"city": "CONCORD", "state": "NC", "zip": "28025"},
            "matchedAddress": "77 UNION ST S, CONCORD, NC, 28025",
        }
    ],
    "100 main st, springfield": [
        {
            "coordinates": {"x": -89.6501, "y": 39.8017},
            "matchedAddress": "100 MAIN ST, SPRINGFIELD, IL, 62701",
        },
        {
            "coordinates": {"x": -80.59, "y": 35.41},
            "matchedAddress": "100 MAIN ST, SPRINGFIELD, NC, 28000",
        },
    ],
}

GARBAGE = {
    "not json": (200, b"<html><body>Welcome to nginx</body></html>"),
    "error page": (502, b"<html>Bad gateway</html>"),
    "cut off": (200, b'[{"lat": "35.'),
    "wrong shape": (200, b'{"results": "none"}'),
    "nan": (200, b'[{"lat": "NaN", "lon": "-80.58", "display_name": "x"}]'),
    "off the planet": (200, b'[{"lat": "999", "lon": "-80.58", "display_name": "x"}]'),
    "no coordinates": (200, b'[{"display_name": "x"}]'),
}
CENSUS_GARBAGE = {
    "not json": (200, b"<html>Service Unavailable</html>"),
    "error page": (500, b"Internal Server Error"),
    "wrong shape": (200, b'{"result": {"addressMatches": "none"}}'),
    "no result": (200, b'{"errors": ["Address cannot be empty"], "status": "400"}'),
    "bad coordinates": (
        200,
        b'{"result": {"addressMatches": [{"matchedAddress": "X", "coordinates": {"x": "a"}}]}}',
    ),
}


class LoopbackGeocoder(BaseHTTPRequestHandler):
    asked: list[str] = []
    slow_seconds = 3.0

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        LoopbackGeocoder.asked.append(self.path)
        typed = (query.get("q") or query.get("address") or "").lower()
        if typed.startswith("slow"):
            time.sleep(self.slow_seconds)
        census = url.path.endswith("/locations/onelineaddress")
        garbage = (CENSUS_GARBAGE if census else GARBAGE).get(typed.split(",")[0])
        if garbage is not None:
            status, body = garbage
            self._send(status, body)
        elif census:
            matches = CENSUS_MATCHES.get(typed, [])
            answer = {
                "result": {"input": {"address": {"address": typed}}, "addressMatches": matches}
            }
            self._send(200, json.dumps(answer).encode())
        elif url.path.endswith("/search"):
            self._send(200, json.dumps(NOMINATIM_PLACES.get(typed, [])).encode())
        elif url.path.endswith("/reverse"):
            found = NOMINATIM_ADDRESSES.get(f"{query.get('lat')},{query.get('lon')}")
            self._send(200, json.dumps(found or {"error": "Unable to geocode"}).encode())
        else:
            self._send(404, b"Not found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body) + (20 if body.endswith(b"35.") else 0)))
        self.end_headers()
        with suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def loopback_geocoder() -> Iterator[str]:
    """A running loopback geocoder's base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), LoopbackGeocoder)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    LoopbackGeocoder.asked.clear()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
