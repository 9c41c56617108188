"""What the endpoint refuses before anything is recorded: a missing or wrong signature, a stale
timestamp, a body that is not JSON or not an event, an installation without a webhook secret;
and it exists on the platform host only."""

from __future__ import annotations

import json
import time

import pytest
import stripe

from billing.models import WebhookEvent
from tests.billing.conftest import WEBHOOK_PATH, WEBHOOK_SECRET, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(paid_checkout):
    return paid_checkout("concord").complete()["invoice.paid"]


def post(client, body, header=None):
    extra = {"HTTP_STRIPE_SIGNATURE": header} if header is not None else {}
    return client.post(WEBHOOK_PATH, body, content_type="application/json", **extra)


def refused(response, reason: bytes) -> None:
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert reason in response.content
    assert not WebhookEvent.objects.exists()


def test_an_event_without_a_signature_is_refused(platform_client, webhook_secret, event):
    refused(post(platform_client, json.dumps(event)), b"header")


def test_an_event_signed_with_another_secret_is_refused(platform_client, webhook_secret, event):
    body = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(body, "whsec_someone_else")
    refused(post(platform_client, body, header), b"signature")


def test_a_body_changed_after_signing_is_refused(platform_client, webhook_secret, event):
    body, header = signed(event)
    refused(post(platform_client, body.replace("paid", "open"), header), b"signature")


def test_a_stale_timestamp_is_refused(platform_client, webhook_secret, event):
    body, header = signed(event, timestamp=int(time.time()) - 3600)
    refused(post(platform_client, body, header), b"tolerance")


def test_a_signed_body_that_is_not_json_is_refused(platform_client, webhook_secret):
    body = "not json {"
    header = stripe.WebhookSignature.generate_signature_header(body, WEBHOOK_SECRET)
    refused(post(platform_client, body, header), b"JSON")


@pytest.mark.parametrize(
    "body", [{"id": "evt_1", "object": "charge"}, {"object": "event", "id": "evt_1"}, [1, 2]]
)
def test_a_signed_json_body_that_is_not_an_event_is_refused(platform_client, webhook_secret, body):
    text = json.dumps(body)
    header = stripe.WebhookSignature.generate_signature_header(text, WEBHOOK_SECRET)
    response = post(platform_client, text, header)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_without_a_webhook_secret_nothing_is_accepted(platform_client, settings, event):
    settings.STRIPE_WEBHOOK_SECRET = ""
    body, header = signed(event)
    refused(post(platform_client, body, header), b"not configured")


def test_the_endpoint_does_not_exist_on_a_city_host(concord_client, webhook_secret, event):
    body, header = signed(event)
    assert post(concord_client, body, header).status_code == 404
    assert not WebhookEvent.objects.exists()


def test_the_endpoint_takes_posts_only(platform_client, webhook_secret):
    assert platform_client.get(WEBHOOK_PATH).status_code == 405
