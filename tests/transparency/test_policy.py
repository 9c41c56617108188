"""The department's administrator writes the policy, retention and funding texts; each change is
a new version on the public page. Nobody else may."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.transparency.models import Policy

pytestmark = pytest.mark.django_db

TEXTS = {
    "policy_text": "Cameras are never watched live except in emergencies.",
    "retention_text": "Lapsed registrations are purged after 90 days.",
    "funding_text": "Paid from the general fund: $20,000 a year.",
}


def test_the_administrator_publishes_new_versions(admin, concord_client):
    response = admin.client.post("/department/transparency/", TEXTS)
    assert response.status_code == 302
    page = concord_client.get("/transparency/").content.decode()
    for text in TEXTS.values():
        assert text in page
    assert "Version 1" in page
    admin.client.post("/department/transparency/", TEXTS)
    with schema_context("concord"):
        assert Policy.objects.count() == 1
    admin.client.post("/department/transparency/", TEXTS | {"funding_text": "A state grant."})
    with schema_context("concord"):
        assert Policy.objects.count() == 2
    page = concord_client.get("/transparency/").content.decode()
    assert "A state grant." in page and "Version 2" in page
    assert concord_client.get("/transparency/data.json").json()["policy"]["version"] == 2


def test_a_text_too_long_is_refused_with_its_field(admin):
    response = admin.client.post(
        "/department/transparency/", TEXTS | {"funding_text": "x" * 10_001}
    )
    assert response.status_code == 200
    assert "Nothing was published" in response.content.decode()
    with schema_context("concord"):
        assert not Policy.objects.exists()


def test_only_an_administrator_may(investigator, concord_client):
    assert investigator.client.post("/department/transparency/", TEXTS).status_code == 403
    assert concord_client.get("/department/transparency/").status_code == 302
    with schema_context("concord"):
        assert not Policy.objects.exists()


def test_each_city_its_own_texts(admin, carrollton_client):
    admin.client.post("/department/transparency/", TEXTS)
    page = carrollton_client.get("/transparency/").content.decode()
    assert TEXTS["policy_text"] not in page
