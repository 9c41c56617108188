"""Cron-only installations run the Stripe retries with a command, as every other job."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_command_reports_every_serving_department():
    out = io.StringIO()
    call_command("billing_stripe_retries", stdout=out)
    lines = out.getvalue().splitlines()
    assert "concord: 0 applied, 0 still pending, 0 failed" in lines
    assert "carrollton: 0 applied, 0 still pending, 0 failed" in lines
