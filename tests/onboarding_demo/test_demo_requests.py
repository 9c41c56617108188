"""The demo's program requests: made through the services, at different steps of the queue,
once however often the demo runs, with no email sent."""

from __future__ import annotations

import pytest
from django.core import mail
from onboarding.demo import DEMO_REQUESTS, demo_requests_seed
from onboarding.models import ProgramRequest, ProgramRequestEvent

pytestmark = pytest.mark.django_db


def test_the_demo_requests_fill_the_queue_once():
    lines = demo_requests_seed()
    assert lines == ["program requests: 3 in the queue at /console/requests/ (4 new)"]
    statuses = dict(ProgramRequest.objects.values_list("subdomain", "status"))
    assert statuses == {
        "fayetteville": "new",
        "brownsville": "in_review",
        "greenville": "new",
        "durham": "unconfirmed",
    }
    greenville = ProgramRequest.objects.get(subdomain="greenville")
    assert greenville.personal_email
    brownsville = ProgramRequest.objects.get(subdomain="brownsville")
    assert brownsville.language == "es"
    assert brownsville.events.filter(kind=ProgramRequestEvent.Kind.NOTE).count() == 1
    assert mail.outbox == []

    assert demo_requests_seed() == [
        "program requests: 3 in the queue at /console/requests/ (0 new)"
    ]
    assert ProgramRequest.objects.count() == len(DEMO_REQUESTS)


def test_the_demo_queue_page_shows_them(platform_client, vendor, sign_in):
    demo_requests_seed()
    sign_in(platform_client, vendor)
    page = platform_client.get("/console/requests/").content.decode()
    assert "Fayetteville Police Department" in page
    assert "Departamento de Policía de Brownsville" in page
    assert "Durham Police Department" not in page  # not confirmed: not work yet
