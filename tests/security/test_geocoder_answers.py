"""Whatever the geocoder answers (a dropped connection, an error page, coordinates that are not
numbers or not on Earth), the resident's address search and the incident form answer with a
message, never a 500. The geocoder is a real HTTP server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django_tenants.utils import schema_context

from portal.department.models import Incident
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db

# The query decides the answer, so one server plays every misbehaving geocoder.
ANSWERS: dict[str, object] = {
    "nan": [{"lat": "NaN", "lon": "-80.58"}],
    "infinite": [{"lat": "inf", "lon": "-inf"}],
    "off the planet": [{"lat": "999", "lon": "-80.58"}],
    "a list": [{"lat": [35.4], "lon": {"x": 1}}],
    "not a list of places": [1, 2],
    "null": None,
}


class HostileGeocoder(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        query = parse_qs(urlparse(self.path).query)["q"][0]
        if query == "hang up":
            self.close_connection = True  # no status line at all: http.client's RemoteDisconnected
            return
        if query == "half a body":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"[{")
            self.close_connection = True
            return
        if query == "error page":
            self.send_response(502)
            self.end_headers()
            self.wfile.write(b"<html>Bad gateway</html>")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(ANSWERS[query]).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def geocoder(settings) -> Iterator[None]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), HostileGeocoder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.GEOCODER_URL = f"http://127.0.0.1:{server.server_port}"
    yield
    server.shutdown()


QUERIES = ["hang up", "half a body", "error page", *ANSWERS]


@pytest.mark.parametrize("query", QUERIES)
def test_the_address_search_explains_a_geocoder_that_misbehaves(geocoder, make_resident, query):
    alice = make_resident("concord")
    response = alice.client.get("/geocode/", {"q": query})
    assert response.status_code == 503
    assert response.json() == {
        "error": "Address search is not available right now; place the pin on the map."
    }


@pytest.mark.parametrize("query", QUERIES)
def test_the_incident_form_explains_a_geocoder_that_misbehaves(geocoder, make_staff, query):
    investigator = make_staff("concord", "investigator")
    response = investigator.client.post(
        "/department/incidents/",
        # No place given: the form asks the geocoder.
        incident_post_data(case_number="CPD-1", address=query, latitude="", longitude=""),
    )
    assert response.status_code == 200
    assert "Address search is unavailable; click the map instead." in response.content.decode()
    with schema_context("concord"):
        assert not Incident.objects.exists()
