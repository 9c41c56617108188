"""Two cities' reports never mix: the same report id in Concord and Carrollton names each
city's own report, a Concord report id on Carrollton's host is 404, and a Concord statement
does not verify a Carrollton report. The public pages' chrome is in Spanish when asked."""

from __future__ import annotations

from datetime import date

import pytest
from django_tenants.utils import schema_context

from portal.council_reports import services
from portal.council_reports.models import CouncilReport
from tenants.models import Department

pytestmark = pytest.mark.django_db


def publish(schema_name: str, pk: int, start: date, end: date) -> CouncilReport:
    with schema_context(schema_name):
        department = Department.objects.get(schema_name=schema_name)
        with department.in_time_zone():
            draft = services.report_generate(department=department, start=start, end=end)
        CouncilReport.objects.filter(pk=draft.pk).update(id=pk)
        return services.report_publish(
            department=department, report=CouncilReport.objects.get(pk=pk)
        )


def test_the_same_id_in_two_cities_names_each_citys_report(concord_client, carrollton_client):
    concord = publish("concord", 9001, date(2026, 1, 1), date(2026, 3, 31))
    carrollton = publish("carrollton", 9001, date(2025, 1, 1), date(2025, 12, 31))
    concord_only = publish("concord", 9002, date(2026, 4, 1), date(2026, 6, 30))
    concord_page = concord_client.get("/transparency/reports/9001/").content.decode()
    carrollton_page = carrollton_client.get("/transparency/reports/9001/").content.decode()
    assert "2026-01-01" in concord_page or "Jan. 1, 2026" in concord_page
    assert "Carrollton" in carrollton_page and "Concord" not in carrollton_page
    assert concord.digest != carrollton.digest
    for url in (
        "/transparency/reports/9002/",
        "/transparency/reports/9002/pdf/",
        "/transparency/reports/9002/verify/",
    ):
        assert carrollton_client.get(url).status_code == 404
    assert concord_client.get("/transparency/reports/9002/").status_code == 200
    assert (
        "/transparency/reports/9002/"
        not in carrollton_client.get("/transparency/reports/").content.decode()
    )
    # Concord's signed statement names Concord: it does not vouch for Carrollton's report 9001.
    check = carrollton_client.get(
        "/transparency/reports/9001/verify/", {"statement": concord.statement}
    ).content.decode()
    assert "The statement is about another report." in check
    assert concord_only.pk == 9002


def test_the_public_pages_speak_spanish(concord_client):
    publish("concord", 9003, date(2026, 1, 1), date(2026, 3, 31))
    with schema_context("concord"):
        CouncilReport.objects.filter(pk=9003).update(
            effectiveness="Our own words, kept as written."
        )
    concord_client.cookies["django_language"] = "es"
    listing = concord_client.get("/transparency/reports/").content.decode()
    assert "Informes al concejo" in listing
    assert "Descargar (PDF)" in listing
    page = concord_client.get("/transparency/reports/9003/").content.decode()
    assert "Cómo se usó el registro" in page
    assert "Our own words, kept as written." in page
    assert "menos de 5" in page
    check = concord_client.get("/transparency/reports/9003/verify/").content.decode()
    # Changed after publishing (its department section): the check says so, in Spanish.
    assert "El contenido del informe ya no coincide con la declaración firmada." in check
