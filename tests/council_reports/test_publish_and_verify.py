"""Publishing freezes and signs a report once; its public page, PDF and signature check need
no sign-in; a changed report, or a statement about another report, fails the check. Nothing
on the page, in the JSON or in the PDF names the resident, the address, the case or staff."""

from __future__ import annotations

import io
import json

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from pypdf import PdfReader

from portal.council_reports.models import CouncilReport
from tests.council_reports.conftest import SECRETS, period
from tests.council_reports.test_figures import generate

pytestmark = pytest.mark.django_db


def published(admin) -> CouncilReport:
    start, end = period()
    generate(admin.client, start, end)
    with schema_context("concord"):
        report = CouncilReport.objects.get()
    admin.client.post(
        f"/department/reports/{report.pk}/",
        {
            "complaints": "Two complaints, both answered.",
            "costs": "$12,000 a year",
            "funding_source": "General fund",
            "effectiveness": "Footage helped in 3 cases.",
        },
    )
    assert admin.client.post(f"/department/reports/{report.pk}/publish/").status_code == 302
    with schema_context("concord"):
        return CouncilReport.objects.get(pk=report.pk)


def test_a_published_report_is_listed_publicly_and_its_signature_verifies(
    admin, seeded, concord_client
):
    report = published(admin)
    assert report.is_published and report.statement and len(report.digest) == 64
    listing = concord_client.get("/transparency/reports/")
    assert listing.status_code == 200
    assert f"/transparency/reports/{report.pk}/pdf/" in listing.content.decode()
    page = concord_client.get(f"/transparency/reports/{report.pk}/").content.decode()
    assert "Footage helped in 3 cases." in page and report.digest in page
    pdf = concord_client.get(f"/transparency/reports/{report.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    check = concord_client.get(f"/transparency/reports/{report.pk}/verify/").content.decode()
    assert "Valid: the statement was signed by this portal" in check


def test_publishing_twice_gives_one_published_report(admin, seeded):
    report = published(admin)
    assert admin.client.post(f"/department/reports/{report.pk}/publish/").status_code == 302
    with schema_context("concord"):
        [again] = CouncilReport.objects.published()
    assert again.statement == report.statement and again.published_at == report.published_at
    # And the department's section of a published report no longer changes.
    admin.client.post(f"/department/reports/{report.pk}/", {"complaints": "changed"})
    with schema_context("concord"):
        assert (
            CouncilReport.objects.get(pk=report.pk).complaints == "Two complaints, both answered."
        )


def test_a_tampered_report_fails_the_check(admin, seeded, concord_client):
    report = published(admin)
    with schema_context("concord"):
        figures = report.figures
        figures["usage"]["reveal"]["total"] = 999
        CouncilReport.objects.filter(pk=report.pk).update(figures=figures)
    check = concord_client.get(f"/transparency/reports/{report.pk}/verify/").content.decode()
    assert "Not valid:" in check
    assert "no longer match the signed statement" in check


def test_a_forged_statement_fails_the_check(admin, seeded, concord_client):
    report = published(admin)
    forged = report.statement[:-4] + ("AAAA" if not report.statement.endswith("AAAA") else "BBBB")
    check = concord_client.get(
        f"/transparency/reports/{report.pk}/verify/", {"statement": forged}
    ).content.decode()
    assert "The signature does not match" in check


def test_nothing_identifies_a_resident_an_address_a_case_or_staff(admin, seeded, concord_client):
    report = published(admin)
    page = concord_client.get(f"/transparency/reports/{report.pk}/").content.decode()
    staff_page = admin.client.get(f"/department/reports/{report.pk}/").content.decode()
    pdf = concord_client.get(f"/transparency/reports/{report.pk}/pdf/").content
    pdf_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    stored = json.dumps(report.figures) + report.statement
    for secret in SECRETS:
        for where, text in (
            ("page", page),
            ("staff page", staff_page),
            ("PDF", pdf_text),
            ("JSON", stored),
        ):
            assert secret.casefold() not in text.casefold(), f"{secret} in the {where}"
    # The seeded records do hold them: the test would notice a leak.
    with schema_context("concord"), connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM registry_auditentry WHERE reason LIKE %s", ["%Zwicklebauer%"]
        )
        assert cursor.fetchone()[0] > 0
