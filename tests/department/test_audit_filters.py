"""The audit trail is filtered by case number, date range, action and staff member; it is
read a page at a time however long it is; its export holds exactly the filtered entries; and
a filter no entry could match gets a message in the user's language, never a server error."""

from __future__ import annotations

import csv
import io
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.audit_views import AUDIT_PAGE_SIZE
from portal.department.selectors import AuditFilters
from portal.registry.models import AuditEntry

pytestmark = pytest.mark.django_db


def entry(**fields: object) -> AuditEntry:
    values: dict[str, object] = {
        "actor_email": "dana@concord.example.org",
        "actor_role": "investigator",
        "action": "reveal",
        "reason": "Contact details",
    }
    with schema_context("concord"):
        return AuditEntry.objects.create(**(values | fields))


@pytest.fixture
def trail():
    entry(case_number="CPD-1", reason="first reveal")
    entry(case_number="CPD-1", action="footage_request", reason="asked for CPD-1")
    entry(case_number="CPD-2", reason="another case")
    entry(actor_email="eli@concord.example.org", action="notify", reason="area notice")


def export_rows(client, query: dict[str, str]) -> list[dict[str, str]]:
    response = client.get("/department/audit.csv", query)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def today() -> date:
    """Today in Concord (America/New_York), the zone the department's days are counted in."""
    return timezone.now().astimezone(zoneinfo.ZoneInfo("America/New_York")).date()


def test_the_case_number_filter_keeps_that_case_alone(admin, trail):
    page = admin.client.get("/department/audit/", {"case_number": "CPD-1"}).content.decode()
    assert "first reveal" in page and "asked for CPD-1" in page
    assert "another case" not in page and "area notice" not in page


def test_filters_combine(admin, trail):
    page = admin.client.get(
        "/department/audit/", {"case_number": "CPD-1", "action": "footage_request"}
    ).content.decode()
    assert "asked for CPD-1" in page and "first reveal" not in page
    page = admin.client.get("/department/audit/", {"actor": "eli@"}).content.decode()
    assert "area notice" in page and "first reveal" not in page


def test_the_date_range_counts_the_departments_days(admin, trail):
    shown = admin.client.get(
        "/department/audit/", {"date_from": today().isoformat(), "date_to": today().isoformat()}
    ).content.decode()
    assert "first reveal" in shown
    before = admin.client.get(
        "/department/audit/", {"date_to": (today() - timedelta(days=1)).isoformat()}
    ).content.decode()
    assert "first reveal" not in before and "No entries match these filters." in before
    after = admin.client.get(
        "/department/audit/", {"date_from": (today() + timedelta(days=1)).isoformat()}
    ).content.decode()
    assert "first reveal" not in after


def test_a_day_starts_at_midnight_in_the_departments_time_zone():
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        filters = AuditFilters.of_days(date_from=date(2026, 11, 26), date_to=date(2026, 11, 26))
    assert filters.starts == datetime(2026, 11, 26, 5, tzinfo=zoneinfo.ZoneInfo("UTC"))
    assert filters.ends == datetime(2026, 11, 27, 5, tzinfo=zoneinfo.ZoneInfo("UTC"))


@pytest.mark.parametrize(
    "query",
    [
        {"case_number": "CPD-1"},
        {"action": "reveal"},
        {"actor": "eli@"},
        {"case_number": "CPD-1", "date_from": "2020-01-01", "date_to": "2099-12-31"},
        {},
    ],
)
def test_the_export_holds_exactly_the_entries_the_page_shows(admin, trail, query):
    with schema_context("concord"):
        before = AuditEntry.objects.count()
    rows = export_rows(admin.client, query)
    with schema_context("concord"):
        # The export records itself first: it is among the rows when the filters keep it.
        export_entry = AuditEntry.objects.latest("pk")
        assert AuditEntry.objects.count() == before + 1
        expected = AuditEntry.objects.all()
        if query.get("case_number"):
            expected = expected.filter(case_number=query["case_number"])
        if query.get("action"):
            expected = expected.filter(action=query["action"])
        if query.get("actor"):
            expected = expected.filter(actor_email__icontains=query["actor"])
        expected_reasons = list(expected.order_by("at", "pk").values_list("reason", flat=True))
    assert [row["reason"] for row in rows] == expected_reasons
    assert export_entry.action == "export"
    assert export_entry.reason.startswith("Audit trail export (CSV)")
    if query:
        assert export_entry.reason != "Audit trail export (CSV)"  # the filters are recorded


def test_the_page_links_the_export_with_its_filters(admin, trail):
    page = admin.client.get("/department/audit/", {"case_number": "CPD-1"}).content.decode()
    assert 'href="/department/audit.csv?case_number=CPD-1' in page


def test_the_trail_is_read_a_page_at_a_time_beyond_500_entries(admin):
    with schema_context("concord"):
        AuditEntry.objects.bulk_create(
            AuditEntry(
                actor_email="dana@concord.example.org",
                actor_role="investigator",
                action="canvass_view",
                reason=f"entry number {number:04d}",
            )
            for number in range(620)
        )
        total = AuditEntry.objects.count()
    seen: list[str] = []
    url, query = "/department/audit/", {"action": "canvass_view"}
    pages = 0
    while True:
        response = admin.client.get(url, query)
        assert response.status_code == 200
        page = response.context["page"]
        seen += [entry.reason for entry in page.entries]
        pages += 1
        if page.older_than is None:
            break
        assert len(page.entries) == AUDIT_PAGE_SIZE
        assert f"before={page.older_than}" in response.content.decode()
        query = {"action": "canvass_view", "before": str(page.older_than)}
    assert total >= 620
    assert pages == -(-620 // AUDIT_PAGE_SIZE)
    # Every entry once, newest first: the oldest one (number 0000) is reached past 500.
    assert seen == [f"entry number {number:04d}" for number in reversed(range(620))]
    # And back: the "newer" link of a deep page leads to the page before it.
    deep = admin.client.get(url, {"action": "canvass_view", "before": str(page.older_than or 0)})
    last = admin.client.get(url, query).context["page"]
    newer = admin.client.get(
        url, {"action": "canvass_view", "after": str(last.newer_than)}
    ).context["page"]
    assert [entry.reason for entry in newer.entries] == seen[
        -len(last.entries) - AUDIT_PAGE_SIZE : -len(last.entries)
    ]
    assert deep.status_code == 200


@pytest.mark.parametrize(
    ("query", "english", "spanish"),
    [
        (
            {"date_from": "2026-13-45"},
            "Enter a real date as year-month-day, for example 2026-11-26.",
            "Escriba una fecha real como año-mes-día, por ejemplo 2026-11-26.",
        ),
        (
            {"action": "teleport"},
            "There is no such action: choose one from the list.",
            "No existe esa acción: elija una de la lista.",
        ),
        (
            {"date_from": "2026-11-20", "date_to": "2026-11-10"},
            "The end date comes before the start date.",
            "La fecha final es anterior a la fecha inicial.",
        ),
    ],
)
@pytest.mark.parametrize("path", ["/department/audit/", "/department/audit.csv"])
def test_bad_filter_input_gets_a_clear_message_in_english_and_spanish(
    admin, query, english, spanish, path
):
    response = admin.client.get(path, query)
    assert response.status_code == 400
    assert english in response.content.decode()
    admin.client.cookies["django_language"] = "es"
    response = admin.client.get(path, query)
    assert response.status_code == 400
    assert spanish in response.content.decode()


def test_a_bad_filter_exports_nothing_and_records_nothing(admin):
    with schema_context("concord"):
        before = AuditEntry.objects.count()
    response = admin.client.get("/department/audit.csv", {"date_to": "2026-02-30"})
    assert response.status_code == 400
    with schema_context("concord"):
        assert AuditEntry.objects.count() == before
