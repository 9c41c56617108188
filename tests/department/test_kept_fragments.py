"""The console's fragments that depend only on the city and the language (the map's scripts with
their translated messages, the incident page's unbound notice field) are rendered once per
process and kept (the template_fragments cache): kept apart per language and per city, with
the same keys (the same incident number) in two cities on purpose."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import Incident
from tenants.models import Program

pytestmark = pytest.mark.django_db

MAP_STATUS = "portal/_map_status.html"  # included by department/_map_assets.html
FIELD = "django/forms/field.html"  # the notice field's template (as_field_group)


def opened(staff) -> str:
    """An incident at the staff member's city's centre, with the same key in every city."""
    with schema_context("public"):
        program = Program.objects.get(department__schema_name=staff.schema_name)
    with schema_context(staff.schema_name):
        Incident.objects.create(
            pk=4242,
            kind="crime",
            category="burglary",
            case_number=f"{staff.schema_name.upper()}-CASE",
            latitude=program.center_latitude,
            longitude=program.center_longitude,
            starts_at=timezone.now(),
            ends_at=timezone.now(),
            radius_m=300,
            opened_by=get_user_model().objects.get(email=staff.email),
        )
    return "/department/incidents/4242/"


def rendered(staff, url: str) -> tuple[set[str], str]:
    response = staff.client.get(url)
    assert response.status_code == 200
    return {template.name for template in response.templates}, response.content.decode()


def test_a_city_s_fragments_are_rendered_once_and_kept_per_language_and_city(make_staff):
    concord = make_staff("concord", "investigator")
    carrollton = make_staff("carrollton", "investigator")
    concord_url, carrollton_url = opened(concord), opened(carrollton)
    assert concord_url == carrollton_url  # the same path, in two cities

    first, page = rendered(concord, concord_url)
    assert {MAP_STATUS, FIELD} <= first
    assert "CONCORD-CASE" in page
    assert "Message to owners (optional)" in page
    assert "The map could not be loaded" in page
    # Again in Concord in English: kept, and the page shows them the same.
    again, page_again = rendered(concord, concord_url)
    assert MAP_STATUS not in again and FIELD not in again
    assert page_again.count("Message to owners (optional)") == 1
    assert "The map could not be loaded" in page_again
    assert 'name="message"' in page_again

    # Carrollton's page renders its own (a city may override the templates).
    other, page = rendered(carrollton, carrollton_url)
    assert {MAP_STATUS, FIELD} <= other
    assert "CARROLLTON-CASE" in page and "CONCORD-CASE" not in page

    # Concord in Spanish: its own fragments, in Spanish.
    concord.client.cookies["django_language"] = "es"
    spanish, page = rendered(concord, concord_url)
    assert {MAP_STATUS, FIELD} <= spanish
    assert "Message to owners (optional)" not in page
    assert "The map could not be loaded" not in page
    assert 'name="message"' in page

    # Each kept fragment under its city's schema (django-tenants' key function): two cities,
    # two fragments of each kind in Concord (English, Spanish), one in Carrollton.
    schemas = sorted(key.split(":", 1)[0] for key in caches["template_fragments"]._cache)
    assert schemas == ["carrollton"] * 2 + ["concord"] * 4
