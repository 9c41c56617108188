"""Personas of the department console's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def alice(make_resident, site_data):
    """A Concord resident, Alice Moreno, with one registered site near the town centre."""
    resident = make_resident("concord")
    resident.client.post("/register/", site_data(contact_name="Alice Moreno"))
    return resident


# The billing fixtures, for the department's view of its device subscriptions.
from tests.billing.conftest import console_subscription, fake_stripe  # noqa: E402, F401
