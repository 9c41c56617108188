"""Each published number, computed from the seeded records, is the number the page, the CSV and
the JSON show; and nobody needs to sign in to see them."""

from __future__ import annotations

import csv
import io

import pytest
from django_tenants.utils import schema_context

from portal.department.models import NotificationRecipient
from portal.liveview.models import Grant
from portal.registry.models import AuditEntry, OptOut
from portal.transparency import providers
from tests.transparency.conftest import area, current, published, refresh
from tests.transparency.seeding import ZIP_28025, ZIP_28027, Seed, seed

pytestmark = pytest.mark.django_db

PLAN = Seed(
    sites={ZIP_28025: 12, ZIP_28027: 9},
    devices=6,
    reveals={"burglary": 7, "robbery": 6},
    footage_requests={"burglary": 8, "robbery": 5},
    area_notices={
        "burglary": ["has_footage"] * 5 + ["nothing"] * 5 + [""] * 10,
        "robbery": ["has_footage"] * 6 + [""] * 6,
    },
    live_views={("active_threat", True): [10] * 5, ("investigation", False): [4] * 6},
    opt_outs=5,
)


@pytest.fixture
def concord_figures(concord_client):
    seed("concord", PLAN)
    refresh("concord")
    return published(concord_client)


def csv_value(text: str, metric: str, category: str, column: str) -> str:
    for row in csv.DictReader(io.StringIO(text)):
        if (row["metric"], row["category"], row["column"]) == (metric, category, column):
            return row["value"]
    raise AssertionError(f"no CSV line for {metric} {category} {column}")


def test_audited_counts_match_the_audit_trail(concord_figures):
    data, text = concord_figures["data"], concord_figures["csv"]
    month = data["months"][-1]
    with schema_context("concord"):
        for metric, action in (
            ("reveals", AuditEntry.Action.REVEAL),
            ("footage_requests", AuditEntry.Action.FOOTAGE_REQUEST),
            ("area_notices", AuditEntry.Action.NOTIFY),
        ):
            for category in ("burglary", "robbery"):
                expected = AuditEntry.objects.filter(action=action, category=category).count()
                if expected >= 5:
                    assert current(data, metric, category)["value"] == expected, metric
                    assert csv_value(text, metric, category, month) == str(expected)
            total = AuditEntry.objects.filter(action=action).count()
            if total >= 5:
                assert current(data, metric)["value"] == total
                assert csv_value(text, metric, "total", "total") == str(total)
            else:
                # Two area notices, one in each category: both withheld, and their total.
                assert current(data, metric) == {"value": None, "status": "fewer_than_5"}
    assert current(data, "reveals", "burglary")["value"] == 7
    assert current(data, "footage_requests")["value"] == 13
    # Both cells of the same month are 5 or more: nothing is withheld.
    assert current(data, "reveals", "robbery") == {"value": 6, "status": "shown"}


def test_area_notices_owners_and_shares(concord_figures):
    data = concord_figures["data"]
    with schema_context("concord"):
        reached = NotificationRecipient.objects.filter(sent_at__isnull=False).count()
        answered = NotificationRecipient.objects.exclude(answer="").count()
        footage = NotificationRecipient.objects.filter(answer="has_footage").count()
    assert current(data, "owners_reached")["value"] == reached == 32
    assert current(data, "owners_answered")["value"] == answered == 16
    assert current(data, "owners_with_footage")["value"] == footage == 11
    assert current(data, "share_answered")["value"] == round(100 * 16 / 32)
    assert current(data, "share_with_footage", "burglary")["value"] == 25
    assert current(data, "share_answered", "robbery")["value"] == 50
    assert "50" in concord_figures["page"]


def test_live_views_count_and_minutes_emergency_or_not(concord_figures):
    data = concord_figures["data"]
    with schema_context("concord"):
        assert Grant.objects.filter(emergency=True).count() == 5
    assert current(data, "live_views_emergency")["value"] == 5
    assert current(data, "live_minutes_emergency")["value"] == 50
    assert current(data, "live_views_other", "investigation")["value"] == 6
    assert current(data, "live_minutes_other")["value"] == 24
    # The department's own label for its reason category.
    labels = [row["label"] for row in data["monthly"]["live_views_emergency"]["rows"]]
    assert "Active threat" in labels


def test_opt_outs_sites_and_devices_by_zip_code(concord_figures):
    data = concord_figures["data"]
    with schema_context("concord"):
        assert OptOut.objects.count() == 5
    assert current(data, "opt_outs")["value"] == 5
    assert area(data, "sites", "28025")["value"] == 12
    assert area(data, "sites", "28027")["value"] == 9
    assert area(data, "sites", "total")["value"] == 21
    assert area(data, "devices", "total")["value"] == 6
    assert data["by_area"]["area_kind"] == "zip_code"
    page = concord_figures["page"]
    assert "28025" in page and "28027" in page


def test_the_page_needs_no_sign_in_and_shows_the_figures(concord_figures, concord_client):
    page = concord_figures["page"]
    assert "Owners&#x27; contact details revealed" in page or "contact details revealed" in page
    assert "<svg" in page and "<table" in page
    assert 'href="/transparency/data.csv"' in page
    assert "Guardrail exceptions" in page and "Oversight findings" in page
    response = concord_client.get("/transparency/data.json")
    assert response["Content-Type"].startswith("application/json")
    assert concord_client.get("/transparency/feed.atom")["Content-Type"].startswith(
        "application/atom+xml"
    )


def test_the_page_before_any_refresh_says_so(concord_client):
    page = concord_client.get("/transparency/").content.decode()
    assert "The figures have not been computed yet." in page


def test_the_page_is_in_spanish(concord_figures, concord_client):
    page = concord_client.get("/transparency/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'lang="es"' in page
    assert "Cómo se usa el registro de cámaras" in page
    assert "Excepciones" in page or "excepciones" in page


def test_the_json_follows_its_published_schema(concord_figures, concord_client):
    import json
    from pathlib import Path

    import jsonschema

    import portal.transparency

    schema_path = Path(portal.transparency.__file__).parent / "static/transparency/schema.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(concord_figures["data"], schema)
    assert concord_figures["data"]["$schema"].endswith("/transparency/schema.json")
    # An unknown metric key would fail the schema's own list (the names are stable).
    named = set(schema["properties"]["monthly"]["properties"])
    assert {key for key in concord_figures["data"]["monthly"] if key not in named} == {
        f"provider_{name}" for name in providers.EXPECTED
    }


def test_the_cached_page_follows_each_refresh(concord_client):
    seed("concord", Seed(reveals={"burglary": 6}))
    refresh("concord")
    assert "<td>6</td>" in concord_client.get("/transparency/").content.decode()
    seed("concord", Seed(reveals={"burglary": 3}))
    refresh("concord")
    page = concord_client.get("/transparency/").content.decode()
    assert "<td>9</td>" in page and "<td>6</td>" not in page


def test_the_feed_has_one_entry_a_month(concord_figures):
    from xml.etree import ElementTree

    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.fromstring(concord_figures["feed"].encode())
    entries = feed.findall(f"{atom}entry")
    assert len(entries) == 12
    newest = entries[0]
    month = concord_figures["data"]["months"][-1]
    assert newest.find(f"{atom}id").text.endswith(f":transparency:{month}")
    content = newest.find(f"{atom}content").text
    assert "Footage requests: 13" in content
    assert "Owners who opted out: 5" in content


def test_months_are_the_citys_calendar_months(concord_client):
    from datetime import UTC, datetime

    from django.utils import timezone

    now = timezone.now()
    # 02:00 UTC on the 1st is still the last day of the month before in Concord (New York).
    early = datetime(now.year, now.month, 1, 2, tzinfo=UTC)
    seed("concord", Seed(opt_outs=6))
    with schema_context("concord"):
        OptOut.objects.update(created_at=early)
    refresh("concord")
    data = published(concord_client)["data"]
    row = data["monthly"]["opt_outs"]["rows"][-1]["cells"]
    assert row[data["months"][-2]]["value"] == 6
    assert row[data["months"][-1]]["value"] == 0
