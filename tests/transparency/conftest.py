"""Shared helpers of the transparency page's tests."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.transparency.services import figures_refresh
from tenants.models import Department


def refresh(schema_name: str) -> None:
    with schema_context(schema_name):
        figures_refresh(
            department=Department.objects.get(schema_name=schema_name), now=timezone.now()
        )


def published(client: Client) -> dict[str, Any]:
    """The page, the CSV, the JSON and the feed as text, plus the parsed JSON."""
    page = client.get("/transparency/")
    data = client.get("/transparency/data.json")
    csv = client.get("/transparency/data.csv")
    feed = client.get("/transparency/feed.atom")
    for response in (page, data, csv, feed):
        assert response.status_code == 200, response
    return {
        "page": page.content.decode(),
        "json": data.content.decode(),
        "data": json.loads(data.content),
        "csv": csv.content.decode(),
        "feed": feed.content.decode(),
    }


def current(data: dict[str, Any], metric: str, category: str = "total") -> dict[str, Any]:
    """The current month's cell of a monthly figure in the JSON."""
    month = data["months"][-1]
    row = next(row for row in data["monthly"][metric]["rows"] if row["category"] == category)
    return row["cells"][month]


def area(data: dict[str, Any], metric: str, key: str) -> dict[str, Any]:
    row = next(row for row in data["by_area"][metric]["rows"] if row["category"] == key)
    return row["cells"]["count"]
