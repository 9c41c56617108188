"""Figures other parts add (guardrail exceptions, oversight findings, delayed notices): the
guardrails, oversight and owners' notices apps register them when they start; a figure whose
provider is missing shows "not tracked yet"."""

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

    real = {provider.name: provider for provider in providers.registered()}
    providers.register("guardrail_exceptions", "Guardrail exceptions", count)
    yield calls
    for provider in real.values():
        providers.register(provider.name, provider.label, provider.count)


@pytest.fixture
def without_providers():
    real = providers.registered()
    for provider in real:
        providers.unregister(provider.name)
    yield
    for provider in real:
        providers.register(provider.name, provider.label, provider.count)


def test_a_registered_provider_is_counted_each_month(concord_client, exceptions_provider):
    refresh("concord")
    assert len(exceptions_provider) == 12
    out = published(concord_client)
    assert current(out["data"], "provider_guardrail_exceptions")["value"] == 6
    assert "guardrail_exceptions" not in out["data"]["not_tracked"]


def test_the_guardrails_oversight_and_notices_apps_provide_their_figures(concord_client):
    assert {provider.name for provider in providers.registered()} == {
        "guardrail_exceptions",
        "guardrail_changes",
        "oversight_findings",
        "oversight_resolutions",
        "notice_delays",
    }
    refresh("concord")
    out = published(concord_client)
    assert out["data"]["not_tracked"] == []
    assert "Not tracked yet." not in out["page"]
    for label in (
        "Guardrail exceptions",
        "Guardrail changes",
        "Oversight findings",
        "Oversight findings resolved",
        "notices delayed",
    ):
        assert label in out["page"], label


def test_without_providers_the_figures_are_not_tracked_yet(concord_client, without_providers):
    refresh("concord")
    out = published(concord_client)
    assert set(out["data"]["not_tracked"]) == set(providers.EXPECTED)
    assert out["page"].count("Not tracked yet.") == len(providers.EXPECTED)


def test_a_provider_name_is_checked():
    with pytest.raises(ValueError):
        providers.register("no spaces please", "x", lambda start, end: 0)
