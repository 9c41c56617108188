"""Shared pieces of the email tests: two cities with their own reply-to addresses, and the same
address registered in both (ids and addresses repeat from city to city)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenants.models import Program

SENDER = "no-reply@canvass.localhost"  # DEFAULT_FROM_EMAIL's address in the test settings
CONCORD_FROM = f"Concord Community Camera Registry <{SENDER}>"
CARROLLTON_FROM = f"Carrollton Community Camera Partnership <{SENDER}>"
SHARED_EMAIL = "pat@example.org"


@pytest.fixture
def reply_to(db):
    """Each city's own reply-to address (Carrollton's set as the console's service would)."""
    Program.objects.filter(department__schema_name="concord").update(
        reply_to_email="cameras@concordpd.example.gov"
    )
    Program.objects.filter(department__schema_name="carrollton").update(
        reply_to_email="partnership@carrolltonpd.example.gov"
    )


@pytest.fixture
def pat_in_both(make_resident, site_data):
    """Pat, registered with the same address in Concord (with a site) and in Carrollton."""
    concord = make_resident("concord", email=SHARED_EMAIL)
    concord.client.post("/register/", site_data(contact_name="Pat Lee", contact_email=SHARED_EMAIL))
    carrollton = make_resident("carrollton", email=SHARED_EMAIL)
    with schema_context("concord"):
        assert concord.participant.sites.count() == 1
    return concord, carrollton
