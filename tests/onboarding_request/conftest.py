"""Shared data for the program request tests: a valid submission, and posting it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client

from tenants.demo import VENDOR_EMAIL

VENDOR = VENDOR_EMAIL


def request_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "agency_name": "Springfield Police Department",
        "city": "Springfield",
        "state": "IL",
        "time_zone": "America/Chicago",
        "contact_name": "Alice Moreno",
        "contact_title": "Lieutenant",
        "contact_email": "alice@springfield-il.gov",
        "contact_phone": "+1 (217) 555-0100",
        "expected_cameras": "400",
        "wants_devices": "yes",
        "subdomain": "springfield-il",
        "purchasing": "purchase_order",
        "purchasing_note": "",
        "message": "",
        "homepage": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def submit(
    platform_client: Client, django_capture_on_commit_callbacks: Callable[..., Any]
) -> Callable[..., HttpResponse]:
    """Post the form (in English unless language="es") from one client address; what is sent
    after commit is sent."""

    def post(
        *,
        language: str = "en",
        ip: str = "198.51.100.7",
        forwarded_for: str = "",
        **fields: object,
    ) -> HttpResponse:
        meta = {"REMOTE_ADDR": ip, "HTTP_ACCEPT_LANGUAGE": language}
        if forwarded_for:
            meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
        with django_capture_on_commit_callbacks(execute=True):
            return platform_client.post("/request/", request_data(**fields), **meta)  # type: ignore[arg-type]

    return post
