"""Distances in the department's units and times in its zone, wherever staff and owners read or
type them: the incident form, the settings page, the dashboard, the area notice's email."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django_tenants.utils import schema_context

from portal.department.models import Incident
from tenants.models import Program
from tests.conftest import incident_post_data
from tests.department.test_notify import incident, neighbourhood, notify  # noqa: F401

pytestmark = pytest.mark.django_db


def concord_units(units: str) -> None:
    Program.objects.filter(department__schema_name="concord").update(distance_units=units)


@pytest.fixture
def metric():
    concord_units("metric")
    yield
    concord_units("imperial")


def opened(investigator, **overrides) -> Incident:
    response = investigator.client.post("/department/incidents/", incident_post_data(**overrides))
    assert response.status_code == 302, response.content.decode()[-3000:]
    with schema_context("concord"):
        return Incident.objects.get()


def test_a_us_department_types_the_radius_in_feet_and_stores_meters(make_staff):
    investigator = make_staff("concord", "investigator")
    page = investigator.client.get("/department/incidents/").content.decode()
    assert "Search radius (feet)" in page
    assert 'name="radius_m" value="1500"' in page  # the default, a round number of feet
    assert opened(investigator, radius_m="1000").radius_m == 305  # 304.8 m


def test_a_metric_department_types_meters(make_staff, metric):
    investigator = make_staff("concord", "investigator")
    page = investigator.client.get("/department/incidents/").content.decode()
    assert "Search radius (meters)" in page
    assert opened(investigator, radius_m="1000").radius_m == 1000


@pytest.mark.parametrize(
    ("typed", "english", "spanish"),
    [
        ("-5", "A distance cannot be negative.", "Una distancia no puede ser negativa."),
        (
            "abc",
            "Type a distance in feet, a number such as 500.",
            "Escriba una distancia en pies, un número como 500.",
        ),
        (
            "70000",
            "This department searches at most 65616 ft from an incident",
            "Este departamento busca como máximo a 65616 ft de un incidente",
        ),
    ],
)
def test_a_bad_radius_is_refused_in_english_and_spanish(make_staff, typed, english, spanish):
    investigator = make_staff("concord", "investigator")
    response = investigator.client.post(
        "/department/incidents/", incident_post_data(radius_m=typed)
    )
    assert response.status_code == 200
    assert english in response.content.decode()
    investigator.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    response = investigator.client.post(
        "/department/incidents/", incident_post_data(radius_m=typed)
    )
    assert spanish in response.content.decode()
    with schema_context("concord"):
        assert not Incident.objects.exists()


def test_the_administrator_chooses_the_units_on_the_settings_page(admin):
    page = admin.client.get("/department/settings/").content.decode()
    assert "Feet and miles" in page and "Meters and kilometers" in page
    response = admin.client.post(
        "/department/settings/", {"distance_units": "metric", "units": ""}, follow=True
    )
    assert "Distances are now written in the units you chose." in response.content.decode()
    assert Program.objects.get(department__schema_name="concord").distance_units == "metric"
    # The other forms of the page are left alone: the offense types are unchanged.
    with schema_context("concord"):
        assert Program.objects.get(department__schema_name="concord").offence_types
    response = admin.client.post("/department/settings/", {"distance_units": "yards", "units": ""})
    assert response.status_code == 400
    assert Program.objects.get(department__schema_name="concord").distance_units == "metric"
    concord_units("imperial")


def test_the_dashboard_writes_the_uncovered_area_in_square_miles_or_kilometers(admin):
    page = admin.client.get("/department/").content.decode()
    assert re.search(r"Without a searchable camera: [\d.]+ square miles of the service area", page)
    assert "square kilomet" not in page
    concord_units("metric")
    try:
        page = admin.client.get("/department/").content.decode()
    finally:
        concord_units("imperial")
    assert re.search(r"Without a searchable camera: [\d.]+ square kilometers", page)


def test_the_area_notice_says_how_near_in_feet_and_when_in_the_citys_time(
    neighbourhood,  # noqa: F811
    incident,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    investigator, case = incident  # 400 ft typed, 21:00 to 23:00 in Concord (UTC-5)
    notify(investigator, case, django_capture_on_commit_callbacks)
    english = next(m for m in mail.outbox if m.to == ["alice@example.org"])
    assert "within 400 ft of the place" in english.body
    assert "from Nov. 20, 2026, 9 p.m. to Nov. 20, 2026, 11 p.m." in english.body
    assert "2 a.m." not in english.body  # the UTC time of 9 p.m. in Concord
    spanish = next(m for m in mail.outbox if m.to == ["bob@example.org"])
    assert "a menos de 400 ft del lugar" in spanish.body
    assert "21:00" in spanish.body and "02:00" not in spanish.body
    assert "Departamento de Policía de Concord" in spanish.subject
