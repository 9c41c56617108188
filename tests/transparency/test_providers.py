"""Figures other parts add (guardrail exceptions, oversight findings, delayed notices): shown
once a provider is registered, "not tracked yet" before."""

from __future__ import annotations

from datetime import datetime

import pytest

from portal.transparency import providers
from tests.transparency.conftest import current, published, refresh

pytestmark = pytest.mark.django_db


@pytest.fixture
def exceptions_provider():
    calls: list[tuple[datetime, datetime]] = []

    def count(start: datetime, end: datetime) -> int:
        calls.append((start, end))
        return 6

    providers.register("guardrail_exceptions", "Guardrail exceptions", count)
    yield calls
    providers.unregister("guardrail_exceptions")


def test_a_registered_provider_is_counted_each_month(concord_client, exceptions_provider):
    refresh("concord")
    assert len(exceptions_provider) == 12
    out = published(concord_client)
    assert current(out["data"], "provider_guardrail_exceptions")["value"] == 6
    assert "guardrail_exceptions" not in out["data"]["not_tracked"]
    assert "oversight_findings" in out["data"]["not_tracked"]


def test_without_providers_the_figures_are_not_tracked_yet(concord_client):
    refresh("concord")
    out = published(concord_client)
    assert set(out["data"]["not_tracked"]) == {
        "guardrail_exceptions",
        "oversight_findings",
        "notice_delays",
    }
    assert out["page"].count("Not tracked yet.") == 3


def test_a_provider_name_is_checked():
    with pytest.raises(ValueError):
        providers.register("no spaces please", "x", lambda start, end: 0)
