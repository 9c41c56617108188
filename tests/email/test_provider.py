"""The area notice sent through anymail's real Postmark backend, to a Postmark-shaped API on
loopback: the request carries the program's name in From, the city's Reply-To and its schema
as metadata and tag; an address Postmark refuses as inactive is marked undeliverable in that
city, and the other owners still get the notice."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from secrets import token_urlsafe

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from portal.department.models import Incident
from portal.registry.models import Participant
from tests.conftest import incident_post_data
from tests.email.conftest import CONCORD_FROM

pytestmark = pytest.mark.django_db

INACTIVE = "gone@example.org"


class FakePostmark(BaseHTTPRequestHandler):
    """POST /email as Postmark answers it (postmarkapp.com/developer/api/email-api): 200 with
    a MessageID, or 422 with ErrorCode 406 for an inactive (suppressed) recipient."""

    received: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append(
            {"path": self.path, "token": self.headers["X-Postmark-Server-Token"], **body}
        )
        if INACTIVE in body["To"]:
            status, answer = (
                422,
                {
                    "ErrorCode": 406,
                    "Message": (
                        "You tried to send to a recipient that has been marked as inactive.\n"
                        f"Found inactive addresses: {INACTIVE}.\n"
                        "Inactive recipients are ones that have generated a hard bounce or a spam "
                        "complaint. "
                    ),
                },
            )
        else:
            status, answer = (
                200,
                {
                    "To": body["To"],
                    "SubmittedAt": "2026-11-20T16:33:54Z",
                    "MessageID": str(uuid.uuid4()),
                    "ErrorCode": 0,
                    "Message": "OK",
                },
            )
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def postmark(settings):
    FakePostmark.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePostmark)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "POSTMARK_SERVER_TOKEN": "server-token",
        "POSTMARK_API_URL": f"http://127.0.0.1:{server.server_address[1]}/",
    }
    yield FakePostmark.received
    server.shutdown()
    server.server_close()


def test_the_provider_gets_the_citys_sender_and_refusals_mark_the_address(
    reply_to, postmark, make_resident, site_data, make_staff, django_capture_on_commit_callbacks
):
    gone = make_resident("concord", email=INACTIVE)
    gone.client.post("/register/", site_data(address="79 Union St S", latitude="35.4082"))
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    make_resident("carrollton", email=INACTIVE)
    investigator = make_staff("concord", "investigator")
    investigator.client.post("/department/incidents/", incident_post_data())
    with schema_context("concord"):
        incident = Incident.objects.get()
    postmark.clear()
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{incident.pk}/notify/", {"message": "", "key": token_urlsafe()}
        )

    assert sorted(request["To"] for request in postmark) == ["alice@example.org", INACTIVE]
    for request in postmark:
        assert request["path"] == "/email"
        assert request["token"] == "server-token"
        assert request["From"] == CONCORD_FROM
        assert request["ReplyTo"] == "cameras@concordpd.example.gov"
        assert request["Metadata"] == {"department": "concord"}
        assert request["Tag"] == "concord"
    assert mail.outbox == []  # nothing went through Django's test backend

    with schema_context("concord"):
        marked = dict(Participant.objects.values_list("user__email", "email_undeliverable_reason"))
    assert marked == {INACTIVE: "rejected", "alice@example.org": ""}
    with schema_context("carrollton"):
        assert Participant.objects.get().email_undeliverable_at is None
