"""Address search for the map pin, through a Nominatim-compatible geocoder when configured.

The geocoder here is a real HTTP server on loopback answering as Nominatim does."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = pytest.mark.django_db

ANSWERS = {
    "77 Union St S, Concord": [{"lat": "35.4081", "lon": "-80.5806", "display_name": "77"}],
    "nowhere at all": [],
    "broken": {"error": "Internal"},
}


class Nominatim(BaseHTTPRequestHandler):
    queries: list[dict[str, list[str]]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)
        Nominatim.queries.append(query)
        body = json.dumps(ANSWERS.get(query["q"][0], [])).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def geocoder(settings) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Nominatim)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.GEOCODER_URL = f"http://127.0.0.1:{server.server_port}"
    Nominatim.queries.clear()
    yield settings.GEOCODER_URL
    server.shutdown()


def test_without_a_geocoder_the_pin_alone_is_offered(make_resident):
    alice = make_resident("concord")
    assert "data-address-search" not in alice.client.get("/register/").content.decode()
    assert alice.client.get("/geocode/?q=77+Union+St+S").status_code == 404


def test_an_address_is_found_near_the_city(make_resident, geocoder):
    alice = make_resident("concord")
    assert "data-address-search" in alice.client.get("/register/").content.decode()
    response = alice.client.get("/geocode/", {"q": "77 Union St S, Concord"})
    assert response.status_code == 200
    assert response.json() == {
        "places": [{"label": "77", "latitude": 35.4081, "longitude": -80.5806}]
    }
    viewbox = Nominatim.queries[0]["viewbox"][0].split(",")
    assert float(viewbox[0]) < -80.5795 < float(viewbox[2])


def test_an_unknown_address_says_so(make_resident, geocoder):
    alice = make_resident("concord")
    response = alice.client.get("/geocode/", {"q": "nowhere at all"})
    assert response.status_code == 404
    assert response.json()["error"] == "No place found for that address."


def test_a_broken_geocoder_does_not_break_the_page(make_resident, geocoder):
    alice = make_resident("concord")
    response = alice.client.get("/geocode/", {"q": "broken"})
    assert response.status_code == 503
    assert "place the pin on the map" in response.json()["error"]


def test_an_unreachable_geocoder_does_not_break_the_page(make_resident, settings):
    settings.GEOCODER_URL = "http://127.0.0.1:9"
    alice = make_resident("concord")
    assert alice.client.get("/geocode/", {"q": "77 Union St S"}).status_code == 503


def test_an_empty_query_is_refused(make_resident, geocoder):
    alice = make_resident("concord")
    assert alice.client.get("/geocode/", {"q": "  "}).status_code == 400


def test_anonymous_visitors_cannot_use_the_geocoder(concord_client, geocoder):
    assert concord_client.get("/geocode/", {"q": "77 Union St S"}).status_code == 302
