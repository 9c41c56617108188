"""The administrator's guardrails page: defaults that change nothing, a change saved and
audited with its old and new values, and contradictions refused with a specific message,
nothing saved."""

from __future__ import annotations

from typing import Any

import pytest
from django_tenants.utils import schema_context

from portal.guardrails import services
from portal.guardrails.models import Guardrails
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, StaffMember
from tests.conftest import feet
from tests.guardrails.conftest import entries

pytestmark = pytest.mark.django_db

URL = "/department/guardrails/"
REASONS = [
    "active_threat",
    "missing_person",
    "crime_in_progress",
    "serious_collision",
    "investigation",
]


def form(**overrides: Any) -> dict[str, Any]:
    return {"live_reasons_allowed": REASONS} | overrides


def guardrails() -> Guardrails:
    with schema_context("concord"):
        return Guardrails.current()


def test_a_city_starts_without_guardrails():
    with schema_context("concord"):
        assert not Guardrails.objects.exists()
        current = Guardrails.current()
        # Reading writes nothing: the defaults stand until an administrator sets them.
        assert not Guardrails.objects.exists()
    assert current.radius_max_m == {} and current.window_max_hours == {}
    assert current.live_reasons_allowed is None and current.live_grant_minutes_max is None
    assert current.reveal_daily_cap is None
    assert not (current.reveal_second_approval or current.live_second_approval)
    assert not current.emergency_overrides


def test_only_administrators_see_the_page(admin, investigator):
    page = admin.client.get(URL)
    assert page.status_code == 200
    assert "Burglary: largest radius (feet)" in page.content.decode()
    assert investigator.client.get(URL).status_code == 403
    assert investigator.client.post(URL, form(radius_burglary=feet(800))).status_code == 403
    assert guardrails().radius_max_m == {}


def test_a_change_is_saved_and_audited_with_old_and_new_values(admin):
    response = admin.client.post(
        URL,
        form(
            radius_burglary=feet(800),
            window_burglary="12",
            live_reasons_allowed=["active_threat", "investigation"],
            live_grant_minutes_max="10",
            reveal_second_approval="on",
            reveal_daily_cap="20",
            emergency_overrides="on",
        ),
    )
    assert response.status_code == 302
    saved = guardrails()
    assert saved.radius_max_m == {"burglary": 800}
    assert saved.window_max_hours == {"burglary": 12}
    assert saved.live_reasons_allowed == ["active_threat", "investigation"]
    assert saved.live_grant_minutes_max == 10 and saved.reveal_daily_cap == 20
    assert saved.reveal_second_approval and saved.emergency_overrides
    assert not saved.live_second_approval
    [entry] = entries(action=AuditEntry.Action.GUARDRAIL_CHANGE)
    assert entry.actor_email == admin.email
    assert "radius_max_m.burglary: - -> 800" in entry.reason
    assert "reveal_daily_cap: - -> 20" in entry.reason
    assert "live_reasons_allowed: - -> ['active_threat', 'investigation']" in entry.reason
    assert entry.site_id is None and entry.participant_id is None

    admin.client.post(
        URL,
        form(
            radius_burglary=feet(600),
            window_burglary="12",
            live_reasons_allowed=["active_threat", "investigation"],
            live_grant_minutes_max="10",
            reveal_second_approval="on",
            reveal_daily_cap="20",
            emergency_overrides="on",
        ),
    )
    changes = entries(action=AuditEntry.Action.GUARDRAIL_CHANGE)
    assert len(changes) == 2
    assert changes[-1].reason == "Guardrails changed: radius_max_m.burglary: 800 -> 600"
    assert "radius_max_m.burglary: 800 -&gt; 600" in admin.client.get(URL).content.decode()


def test_saving_without_a_change_records_nothing(admin):
    assert admin.client.post(URL, form()).status_code == 302
    assert entries(action=AuditEntry.Action.GUARDRAIL_CHANGE) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"radius_burglary": feet(50)},
            "The largest canvass radius for Burglary (164 ft) is below the smallest radius a "
            "guardrail may set, 329 ft.",
        ),
        (
            {"radius_robbery": feet(25000)},
            "The largest canvass radius for Robbery (82021 ft) is above the department&#x27;s "
            "outer cap of 65616 ft: set 65616 ft or less.",
        ),
        (
            {"window_burglary": "0"},
            "The longest time window for Burglary must be between 1 and 8760 hours.",
        ),
        (
            {"live_grant_minutes_max": "0"},
            "The longest live-view grant must be between 1 and 60 minutes",
        ),
        (
            {"live_grant_minutes_max": "61"},
            "The longest live-view grant must be between 1 and 60 minutes",
        ),
        (
            {"reveal_daily_cap": "-1"},
            "The daily cap on reveals must be 1 or more (leave it empty for no cap).",
        ),
        ({"reveal_daily_cap": "many"}, "Enter a whole number."),
    ],
)
def test_contradictions_are_refused_and_nothing_is_saved(admin, fields, message):
    response = admin.client.post(URL, form(**({"radius_burglary": feet(800)} | fields)))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert guardrails().radius_max_m == {}
    assert entries(action=AuditEntry.Action.GUARDRAIL_CHANGE) == []


def test_the_service_refuses_contradictions_by_itself(admin):
    with schema_context("concord"):
        staff = StaffMember.objects.select_related("user").get(user__email=admin.email)
        from tenants.models import Program

        program = Program.objects.get(department__schema_name="concord")
        values = services.GuardrailValues(
            radius_max_m={"burglary": 800, "not_a_type": 500},
            window_max_hours={},
            live_reasons_allowed=["no_such_reason"],
            live_grant_minutes_max=None,
            reveal_second_approval=False,
            live_second_approval=False,
            reveal_daily_cap=-3,
            emergency_overrides=False,
        )
        with pytest.raises(services.GuardrailsInvalid) as invalid:
            services.guardrails_set(
                actor=Actor.of_staff(staff, None), program=program, values=values
            )
        assert set(invalid.value.errors) == {
            "radius_not_a_type",
            "live_reasons_allowed",
            "reveal_daily_cap",
        }
        assert Guardrails.current().radius_max_m == {}


def test_an_investigator_cannot_set_guardrails_through_the_service(investigator):
    with schema_context("concord"):
        from tenants.models import Program

        staff = StaffMember.objects.select_related("user").get(user__email=investigator.email)
        values = services.GuardrailValues.of(Guardrails.current())
        with pytest.raises(services.GuardrailsInvalid):
            services.guardrails_set(
                actor=Actor.of_staff(staff, None),
                program=Program.objects.get(department__schema_name="concord"),
                values=values,
            )


def test_contradictions_are_told_in_spanish(admin):
    admin.client.cookies["django_language"] = "es"
    page = admin.client.post(URL, form(reveal_daily_cap="-1")).content.decode()
    assert (
        "El límite diario de revelaciones debe ser 1 o más (déjelo vacío para no fijar límite)."
        in page
    )


def test_a_guardrail_set_on_the_page_is_enforced_at_once(admin, investigator):
    import zoneinfo

    from django.utils import timezone

    from portal.department.models import Incident
    from tenants.models import Department
    from tests.conftest import feet, incident_post_data

    assert admin.client.post(URL, form(radius_burglary=feet(800))).status_code == 302
    response = investigator.client.post(
        "/department/incidents/", incident_post_data(radius_m=feet(900))
    )
    zone = zoneinfo.ZoneInfo(Department.objects.get(schema_name="concord").time_zone)
    today = timezone.localdate(timezone=zone).isoformat()
    assert (
        "This department allows at most 2624 ft for a burglary canvass "
        f"(guardrail set on {today} by an administrator)."
    ) in response.content.decode()
    with schema_context("concord"):
        assert not Incident.objects.exists()
