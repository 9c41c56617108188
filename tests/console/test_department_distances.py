"""The vendor console writes and reads a department's distances in the department's units: its
page says "9.9 mi around" for Concord (feet and miles), "16 km around" once it chose meters, and
the edit form shows and takes the service radius in miles or kilometers."""

from __future__ import annotations

import pytest

from tenants.models import Department, Program
from tests.onboarding_provision.conftest import vendor_client

pytestmark = pytest.mark.django_db


def concord_units(units: str) -> None:
    Program.objects.filter(department__schema_name="concord").update(distance_units=units)


def test_the_department_page_writes_the_service_area_in_the_departments_units(host_client):
    console = vendor_client(host_client)
    concord = Department.objects.get(schema_name="concord")  # 16,000 m around its center
    page = console.get(f"/console/departments/{concord.pk}/").content.decode()
    assert "9.9 mi around" in page
    assert " m around" not in page
    concord_units("metric")
    page = console.get(f"/console/departments/{concord.pk}/").content.decode()
    assert "16 km around" in page


def test_the_edit_form_shows_the_radius_in_miles_and_takes_kilometers_once_metric(host_client):
    console = vendor_client(host_client)
    concord = Department.objects.get(schema_name="concord")
    page = console.get(f"/console/departments/{concord.pk}/edit/").content.decode()
    assert "Service radius (miles)" in page
    assert 'name="service_radius_m" value="9.942"' in page  # 16,000 m exactly, back again
    assert "Largest canvass radius (feet)" in page
    concord_units("metric")
    page = console.get(f"/console/departments/{concord.pk}/edit/").content.decode()
    assert "Service radius (kilometers)" in page
    assert 'name="service_radius_m" value="16"' in page
