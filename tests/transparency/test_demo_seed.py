"""`make demo` computes each city's transparency figures once, so the page has them at once."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from portal.transparency.demo import transparency_seed
from tenants.models import Department

pytestmark = pytest.mark.django_db


def test_the_demo_computes_the_figures_and_prints_the_page(concord_client):
    from portal.transparency.models import MonthComputed

    concord = Department.objects.get(schema_name="concord")
    with tenant_context(concord):
        assert not MonthComputed.objects.exists()
        lines = transparency_seed(concord)
        assert MonthComputed.objects.exists()
    assert lines == [
        "transparency: http://concord.localhost:8000/transparency/ (public, no sign-in)"
    ]
    page = concord_client.get("/transparency/").content.decode()
    assert 'href="/transparency/reports/"' in page  # the council reports it published
