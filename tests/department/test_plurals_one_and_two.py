"""Counts that can be 1 read as singulars and 2 as plurals, in English and Spanish: a finished
import's report, the guardrail refusals, the uncovered area of the dashboard."""

from __future__ import annotations

import pytest
import time_machine
from django.conf import settings
from django.utils import translation
from django_tenants.utils import schema_context

from portal.registry.models import ImportJob
from tenants.units import format_area
from tests.conftest import incident_post_data
from tests.guardrails.conftest import guardrails_set
from tests.guardrails.test_canvass_limits import SET_ON

pytestmark = pytest.mark.django_db


def import_page(admin, count: int, language: str = "en") -> str:
    with schema_context("concord"):
        job = ImportJob.objects.create(
            filename="registry.csv", status="done", rows=count, site_count=count, camera_count=count
        )
    admin.client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return admin.client.get(f"/department/import/{job.pk}/").content.decode()


@pytest.mark.parametrize(
    ("count", "language", "written"),
    [
        (1, "en", "Imported: 1 site (1 camera)."),
        (2, "en", "Imported: 2 sites (2 cameras)."),
        (1, "es", "Importado: 1 sitio (1 cámara)."),
        (2, "es", "Importados: 2 sitios (2 cámaras)."),
    ],
)
def test_an_import_report_counts_sites_and_cameras(admin, count, language, written):
    page = import_page(admin, count, language)
    assert written in page
    assert "1 sites" not in page and "1 cameras" not in page


@pytest.mark.parametrize(
    ("hours", "english", "spanish"),
    [
        (1, "at most 1 hour for a burglary canvass", "de 1 hora como máximo"),
        (2, "at most 2 hours for a burglary canvass", "de 2 horas como máximo"),
    ],
)
def test_a_time_window_refusal_counts_its_hours(make_staff, hours, english, spanish):
    investigator = make_staff("concord", "investigator")
    with time_machine.travel(SET_ON):
        guardrails_set(window_max_hours={"burglary": hours})
    # Three hours, wider than either guardrail.
    data = incident_post_data(starts_at="2026-11-20T20:00", ends_at="2026-11-20T23:00")
    page = investigator.client.post("/department/incidents/", data).content.decode()
    assert english in page
    investigator.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    page = investigator.client.post("/department/incidents/", data).content.decode()
    assert spanish in page


def test_an_area_of_one_square_mile_is_singular():
    with translation.override("en"):
        assert format_area(2_589_988.11, "imperial") == "1 square mile"
        assert format_area(2 * 2_589_988.11, "imperial") == "2 square miles"
    with translation.override("es"):
        assert format_area(2_589_988.11, "imperial") == "1 milla cuadrada"
        assert format_area(2 * 2_589_988.11, "imperial") == "2 millas cuadradas"
