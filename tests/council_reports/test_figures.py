"""The report's numbers, computed from seeded records, are the same on the page, in the stored
JSON and in the PDF; small counts read "fewer than 5" everywhere."""

from __future__ import annotations

import io
import re

import pytest
from django_tenants.utils import schema_context
from pypdf import PdfReader

from portal.council_reports.models import CouncilReport
from portal.registry.models import AuditEntry
from tests.council_reports.conftest import counted, period, shown

pytestmark = pytest.mark.django_db


def generate(client, start, end):
    return client.post(
        "/department/reports/",
        {"preset": "custom", "start": start.isoformat(), "end": end.isoformat()},
    )


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_numbers_match_the_records_on_the_page_in_the_json_and_in_the_pdf(admin, seeded):
    start, end = period()
    response = generate(admin.client, start, end)
    assert response.status_code == 302
    with schema_context("concord"):
        report = CouncilReport.objects.get()
    reveals = counted("concord", AuditEntry.Action.REVEAL)
    burglary_reveals = counted("concord", AuditEntry.Action.REVEAL, "burglary")
    footage = counted("concord", AuditEntry.Action.FOOTAGE_REQUEST)
    assert reveals >= 9 and burglary_reveals >= 6
    usage = report.figures["usage"]
    assert usage["reveal"]["total"] == reveals
    # Robbery's 3 reveals are hidden; Burglary's 6 beside the total of 9 would give them away,
    # so they are withheld too (complementary suppression).
    assert {row["label"]: row["count"] for row in usage["reveal"]["by_category"]} == {
        "Burglary": "withheld",
        "Robbery": "<5",
    }
    assert usage["footage_request"]["total"] == (footage if footage >= 5 else "<5")
    assert report.figures["live_views"]["count"] == "<5"
    assert report.figures["area_notices"]["owners_reached"] == "<5"

    page = admin.client.get(response["Location"]).content.decode()
    assert f'data-figure="reveal">{reveals}<' in page
    assert f'data-figure="footage_request">{shown(footage)}<' in page
    assert '<th scope="row">Burglary</th><td>withheld</td>' in page
    assert 'data-figure="live_views">fewer than 5<' in page

    pdf = admin.client.get(f"/department/reports/{report.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "Contact details revealed" in text
    assert re.search(rf"Contact details revealed\s+{reveals}\b", text)
    assert "fewer than 5" in text


def test_a_count_under_five_never_appears(admin, seeded):
    start, end = period()
    generate(admin.client, start, end)
    with schema_context("concord"):
        report = CouncilReport.objects.get()
    robbery = counted("concord", AuditEntry.Action.REVEAL, "robbery")
    assert robbery == 3
    [row] = [
        row for row in report.figures["usage"]["reveal"]["by_category"] if row["code"] == "robbery"
    ]
    assert row["count"] == "<5"
    page = admin.client.get(f"/department/reports/{report.pk}/").content.decode()
    assert '<th scope="row">Robbery</th><td>fewer than 5</td>' in page
    assert '<th scope="row">Robbery</th><td>3</td>' not in page

    # Nowhere in the stored figures is a count between 1 and 4.
    def small(value: object) -> bool:
        if isinstance(value, dict):
            return any(
                small(item)
                for key, item in value.items()
                if key not in ("version", "first_entry_id", "last_entry_id", "chain")
            )
        if isinstance(value, list):
            return any(small(item) for item in value)
        return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 5

    assert not small(report.figures)
