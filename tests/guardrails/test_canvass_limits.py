"""The canvass's guardrails: the largest radius and the longest time window per offence type,
under the department's outer cap, refused in the service and on the incident form with the
rule named; nothing is written. Without guardrails, only the outer cap holds (as before)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import translation
from django_tenants.utils import schema_context

from portal.department import services
from portal.department.models import Incident
from portal.guardrails.rules import GuardrailRefused
from portal.registry.audit import Actor
from portal.registry.models import StaffMember
from tests.conftest import feet, incident_post_data
from tests.guardrails.conftest import guardrails_set

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
SET_ON = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def open_incident(
    kind: str = "crime", category: str = "burglary", radius_m: int = 500, hours: float = 2
) -> Incident:
    staff = StaffMember.objects.select_related("user").get(
        user__email="investigator@concord.example.org"
    )
    return services.incident_open(
        actor=Actor.of_staff(staff, "203.0.113.9"),
        kind=kind,
        category=category,
        case_number="CPD-1",
        address="Union St S",
        latitude=35.408,
        longitude=-80.581,
        starts_at=START,
        ends_at=START + timedelta(hours=hours),
        radius_m=radius_m,
    )


def test_a_burglary_canvass_wider_than_its_guardrail_is_refused_naming_the_rule(investigator):
    with time_machine.travel(SET_ON):
        guardrails_set(radius_max_m={"burglary": 800})
    with schema_context("concord"), pytest.raises(GuardrailRefused) as refused:
        open_incident(radius_m=900)
    assert refused.value.message == (
        "This department allows at most 2624 ft for a burglary canvass "
        "(guardrail set on 2026-11-26 by an administrator)."
    )
    assert refused.value.field == "radius_m"
    with schema_context("concord"):
        assert not Incident.objects.exists()
        assert open_incident(radius_m=800).radius_m == 800
        # Another offence type has only the outer cap.
        assert open_incident(category="robbery", radius_m=5_000).radius_m == 5_000


def test_a_missing_person_is_held_to_the_radius_it_searches(investigator):
    guardrails_set(radius_max_m={"missing_person": 1_000})
    with schema_context("concord"):
        with pytest.raises(GuardrailRefused):
            open_incident(kind="missing_person", category="missing_person", radius_m=600)
        assert open_incident(kind="missing_person", category="missing_person", radius_m=500)


def test_the_outer_cap_is_enforced_by_the_service_too(investigator):
    with schema_context("concord"), pytest.raises(GuardrailRefused) as refused:
        open_incident(radius_m=20_001)
    assert "at most 65616 ft" in refused.value.message
    with schema_context("concord"):
        assert not Incident.objects.exists()


def test_a_time_window_longer_than_its_guardrail_is_refused(investigator):
    with time_machine.travel(SET_ON):
        guardrails_set(window_max_hours={"burglary": 6})
    with schema_context("concord"), pytest.raises(GuardrailRefused) as refused:
        open_incident(hours=6.5)
    assert refused.value.message == (
        "This department allows a time window of at most 6 hours for a burglary canvass "
        "(guardrail set on 2026-11-26 by an administrator)."
    )
    with schema_context("concord"):
        assert not Incident.objects.exists()
        assert open_incident(hours=6)


def test_without_guardrails_any_radius_under_the_outer_cap_goes(investigator):
    with schema_context("concord"):
        assert open_incident(radius_m=20_000, hours=24 * 30).radius_m == 20_000


def test_the_incident_form_shows_the_refusal_and_opens_nothing(investigator):
    with time_machine.travel(SET_ON):
        guardrails_set(radius_max_m={"burglary": 800}, window_max_hours={"burglary": 1})
    response = investigator.client.post(
        "/department/incidents/", incident_post_data(radius_m=feet(900))
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "This department allows at most 2624 ft for a burglary canvass" in page
    response = investigator.client.post(
        "/department/incidents/", incident_post_data(radius_m=feet(800))
    )
    assert (
        "allows a time window of at most 1 hour for a burglary canvass" in response.content.decode()
    )
    with schema_context("concord"):
        assert not Incident.objects.exists()
    response = investigator.client.post(
        "/department/incidents/",
        incident_post_data(radius_m=feet(800), ends_at="2026-11-20T22:00"),
    )
    assert response.status_code == 302


def test_the_refusal_is_in_spanish(investigator):
    with time_machine.travel(SET_ON):
        guardrails_set(radius_max_m={"burglary": 800})
    with (
        schema_context("concord"),
        translation.override("es"),
        pytest.raises(GuardrailRefused) as refused,
    ):
        open_incident(radius_m=900)
    assert refused.value.message == (
        "Este departamento permite como máximo 2624 ft para una búsqueda por burglary "
        "(límite fijado el 2026-11-26 por un administrador)."
    )
    investigator.client.cookies["django_language"] = "es"
    page = investigator.client.post(
        "/department/incidents/", incident_post_data(radius_m=feet(900))
    ).content.decode()
    assert "Este departamento permite como máximo 2624 ft" in page
