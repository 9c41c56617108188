"""The import history grows with every upload: it is read a page at a time, newest first."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.department.views import IMPORTS_PAGE_SIZE
from portal.registry.models import ImportJob

pytestmark = pytest.mark.django_db


def test_the_import_history_is_paginated_newest_first(admin):
    count = IMPORTS_PAGE_SIZE + 5
    with schema_context("concord"):
        for number in range(count):
            ImportJob.objects.create(filename=f"upload-{number:03d}.csv", status="done")
    first = admin.client.get("/department/import/").content.decode()
    second = admin.client.get("/department/import/", {"page": "2"}).content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert f"upload-{count - 1:03d}.csv" in first and "upload-000.csv" not in first
    assert "upload-000.csv" in second
    listed = {n for n in range(count) if f"upload-{n:03d}.csv" in first + second}
    assert listed == set(range(count))


def test_a_page_past_the_end_shows_the_last_one(admin):
    with schema_context("concord"):
        ImportJob.objects.create(filename="only.csv", status="done")
    response = admin.client.get("/department/import/", {"page": "99"})
    assert response.status_code == 200
    assert "only.csv" in response.content.decode()
