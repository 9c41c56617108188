"""A type Canvass does not handle is acknowledged and recorded, and does nothing else."""

from __future__ import annotations

import pytest

from billing.fake_stripe import example
from billing.models import Alert, WebhookEvent

pytestmark = pytest.mark.django_db


def test_an_unknown_type_is_acknowledged_and_recorded_as_ignored(fake_stripe, deliver):
    event = fake_stripe.event("customer.tax_id.created", example("customer", id="cus_x"))
    response = deliver(event)
    assert response.status_code == 200
    assert response.content == b"ignored"
    record = WebhookEvent.objects.get(stripe_event_id=event["id"])
    assert record.outcome == WebhookEvent.Outcome.IGNORED
    assert record.type == "customer.tax_id.created"
    assert record.object_id == "cus_x"
    assert record.department is None
    assert not Alert.objects.exists()
    assert deliver(event).status_code == 200
    assert WebhookEvent.objects.count() == 1
