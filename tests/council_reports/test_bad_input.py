"""Refused requests: a period that ends before it starts or spans more than five years, a
second generation while one runs (the department's lock held on another connection), and
anyone but an administrator; each with its own message, nothing written."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from portal.council_reports.models import CouncilReport

pytestmark = pytest.mark.django_db


def reports(schema_name: str = "concord") -> int:
    with schema_context(schema_name):
        return CouncilReport.objects.count()


def post(client, start: str, end: str):
    return client.post("/department/reports/", {"preset": "custom", "start": start, "end": end})


def test_a_period_that_ends_before_it_starts_is_refused(admin):
    response = post(admin.client, "2026-06-01", "2026-05-31")
    assert response.status_code == 400
    assert "The report&#x27;s period ends before it starts" in response.content.decode()
    assert reports() == 0


def test_a_period_of_more_than_five_years_is_refused(admin):
    response = post(admin.client, "2020-01-01", "2025-01-01")
    assert response.status_code == 400
    assert "A report may cover at most 5 years" in response.content.decode()
    assert reports() == 0
    assert post(admin.client, "2021-01-01", "2025-12-31").status_code == 302


def test_custom_dates_are_both_required(admin):
    response = admin.client.post(
        "/department/reports/", {"preset": "custom", "start": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "Give both dates of a custom period." in response.content.decode()
    assert reports() == 0


def test_the_presets_cover_the_last_full_quarter_and_year(admin):
    import time_machine

    with time_machine.travel(date(2026, 11, 26)):
        admin.client.post("/department/reports/", {"preset": "last_quarter"})
        admin.client.post("/department/reports/", {"preset": "last_year"})
    with schema_context("concord"):
        periods = sorted((r.period_start, r.period_end) for r in CouncilReport.objects.all())
    assert periods == [
        (date(2025, 1, 1), date(2025, 12, 31)),
        (date(2026, 7, 1), date(2026, 9, 30)),
    ]


def test_a_report_requested_while_one_is_being_generated_is_refused(
    admin, make_staff, django_db_blocker
):
    carrollton = make_staff("carrollton", "administrator")
    holding, done = threading.Event(), threading.Event()

    def generate_elsewhere() -> None:
        # Another request's generation in progress: the department's lock, held on its own
        # connection until this thread lets go.
        with django_db_blocker.unblock():
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(hashtext(%s), hashtext(%s))",
                        ["council_reports.generate", "concord"],
                    )
                    holding.set()
                    done.wait(30)
            finally:
                connection.close()

    thread = threading.Thread(target=generate_elsewhere)
    thread.start()
    try:
        assert holding.wait(30)
        response = post(admin.client, "2026-01-01", "2026-03-31")
        # Another city's generation is not held up by Concord's.
        assert post(carrollton.client, "2026-01-01", "2026-03-31").status_code == 302
    finally:
        done.set()
        thread.join()
    assert response.status_code == 400
    assert "A report is being generated for this department" in response.content.decode()
    assert reports() == 0
    assert post(admin.client, "2026-01-01", "2026-03-31").status_code == 302


@pytest.mark.parametrize("role", ["investigator", "operator", "analyst", "oversight"])
def test_only_administrators_generate_and_publish(make_staff, admin, role):
    assert post(admin.client, "2026-01-01", "2026-03-31").status_code == 302
    with schema_context("concord"):
        report = CouncilReport.objects.get()
    other = make_staff("concord", role)
    assert post(other.client, "2026-01-01", "2026-03-31").status_code == 403
    assert other.client.get("/department/reports/").status_code == 403
    assert other.client.get(f"/department/reports/{report.pk}/").status_code == 403
    assert other.client.get(f"/department/reports/{report.pk}/pdf/").status_code == 403
    assert other.client.post(f"/department/reports/{report.pk}/publish/").status_code == 403
    assert reports() == 1
    with schema_context("concord"):
        assert not CouncilReport.objects.get().is_published


def test_a_draft_is_not_public(admin, concord_client):
    post(admin.client, "2026-01-01", "2026-03-31")
    with schema_context("concord"):
        report = CouncilReport.objects.get()
    assert concord_client.get(f"/transparency/reports/{report.pk}/").status_code == 404
    assert concord_client.get(f"/transparency/reports/{report.pk}/pdf/").status_code == 404
    assert concord_client.get(f"/transparency/reports/{report.pk}/verify/").status_code == 404
