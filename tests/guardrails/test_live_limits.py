"""Live views under the guardrails: the reasons that allow one, the longest grant, a second
approval outside an emergency, and the emergency override that an administrator approves and
that is counted as an exception."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from portal.guardrails.models import ApprovalRequest
from portal.guardrails.rules import ApprovalNeeded
from portal.guardrails.selectors import guardrail_exceptions_by_month
from portal.liveview import services
from portal.liveview.models import Grant
from portal.liveview.services import GrantRefused
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, StaffMember
from tests.guardrails.conftest import approvals, entries, guardrails_set
from tests.liveview.grant_fixtures import LiveCamera, live_camera

pytestmark = pytest.mark.django_db

SET_ON = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


@pytest.fixture
def camera() -> LiveCamera:
    with schema_context("concord"):
        return live_camera()


def actor(email: str) -> Actor:
    return Actor.of_staff(StaffMember.objects.select_related("user").get(user__email=email), None)


def open_url(live: LiveCamera) -> str:
    return f"/department/live/cameras/{live.camera.pk}/open/"


def grants() -> list[Grant]:
    with schema_context("concord"):
        return list(Grant.objects.order_by("pk"))


def test_a_reason_the_department_does_not_allow_is_refused(investigator, camera):
    with time_machine.travel(SET_ON):
        guardrails_set(live_reasons_allowed=["active_threat", "missing_person"])
    with schema_context("concord"), pytest.raises(GrantRefused) as refused:
        services.grant_open(
            actor=actor(investigator.email),
            camera=camera.camera,
            reason="investigation",
            case_number="CPD-1",
        )
    assert refused.value.message == (
        "This department does not allow a live view for “Investigation follow-up” "
        "(guardrail set on 2026-11-26 by an administrator)."
    )
    response = investigator.client.post(
        open_url(camera), {"reason": "crime_in_progress", "case_number": "CPD-1"}
    )
    assert response.status_code == 200
    assert "does not allow a live view for “Crime in progress”" in response.content.decode()
    assert grants() == []
    assert entries(action=AuditEntry.Action.LIVE_FEED) == []
    response = investigator.client.post(
        open_url(camera), {"reason": "active_threat", "case_number": "CPD-1"}
    )
    assert response.status_code == 302


def test_a_grant_longer_than_the_guardrail_is_refused(investigator, camera):
    with time_machine.travel(SET_ON):
        guardrails_set(live_grant_minutes_max=10)
    response = investigator.client.post(
        open_url(camera), {"reason": "active_threat", "case_number": "CPD-1", "minutes": "11"}
    )
    assert "allows live views of at most 10 minutes (guardrail set on 2026-11-26" in (
        response.content.decode()
    )
    assert grants() == []
    # Without a length asked, the program's 15 minutes are cut to the guardrail's 10.
    assert (
        investigator.client.post(
            open_url(camera), {"reason": "active_threat", "case_number": "CPD-1"}
        ).status_code
        == 302
    )
    [grant] = grants()
    assert grant.expires_at - grant.opened_at == timedelta(minutes=10)
    [entry] = entries(action=AuditEntry.Action.LIVE_FEED)
    assert "opened for 10 min" in entry.reason


def test_without_guardrails_a_grant_lasts_the_programs_length(investigator, camera):
    with schema_context("concord"):
        grant = services.grant_open(
            actor=actor(investigator.email),
            camera=camera.camera,
            reason="investigation",
            case_number="CPD-1",
        )
        assert grant.expires_at - grant.opened_at == timedelta(minutes=15)
        with pytest.raises(GrantRefused, match="last at most 15 minutes"):
            services.grant_open(
                actor=actor(investigator.email),
                camera=camera.camera,
                reason="investigation",
                case_number="CPD-1",
                minutes=16,
            )


def test_outside_an_emergency_a_second_staff_member_approves(
    investigator, second_investigator, camera
):
    guardrails_set(live_second_approval=True)
    with schema_context("concord"), pytest.raises(ApprovalNeeded):
        services.grant_open(
            actor=actor(investigator.email),
            camera=camera.camera,
            reason="investigation",
            case_number="CPD-1",
        )
    response = investigator.client.post(
        open_url(camera), {"reason": "investigation", "case_number": "CPD-1", "minutes": "5"}
    )
    assert response.status_code == 202
    assert grants() == []
    [held] = approvals(status="pending")
    assert held.kind == ApprovalRequest.Kind.LIVE_VIEW
    response = second_investigator.client.post(
        f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 302
    [grant] = grants()
    assert grant.staff_email == investigator.email
    assert grant.expires_at - grant.opened_at == timedelta(minutes=5)
    [entry] = entries(action=AuditEntry.Action.LIVE_FEED)
    assert f"approved by {second_investigator.email}" in entry.reason
    # The requester's link goes to their live view.
    response = investigator.client.get(f"/department/guardrails/approvals/{held.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/department/live/grants/{grant.pk}/"
    # An emergency needs no second approval.
    assert (
        investigator.client.post(
            open_url(camera), {"reason": "active_threat", "case_number": "CPD-2"}
        ).status_code
        == 302
    )


def test_an_emergency_override_is_approved_by_an_administrator_and_counted(
    investigator, second_investigator, admin, camera
):
    guardrails_set(live_reasons_allowed=["investigation"], emergency_overrides=True)
    response = investigator.client.post(
        open_url(camera), {"reason": "active_threat", "case_number": "CPD-9"}
    )
    assert response.status_code == 202
    assert "allows an emergency override with an administrator&#x27;s approval" in (
        response.content.decode()
    )
    [held] = approvals(status="pending")
    assert held.rule == ApprovalRequest.Rule.OVERRIDE
    # A non-emergency reason outside the guardrails is refused outright.
    guardrails_set(live_reasons_allowed=["active_threat"], emergency_overrides=True)
    response = investigator.client.post(
        open_url(camera), {"reason": "investigation", "case_number": "CPD-9"}
    )
    assert response.status_code == 200
    assert len(approvals()) == 1
    guardrails_set(live_reasons_allowed=["investigation"], emergency_overrides=True)

    assert (
        second_investigator.client.post(
            f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "approve"}
        ).status_code
        == 409
    )
    assert grants() == []
    assert (
        admin.client.post(
            f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "approve"}
        ).status_code
        == 302
    )
    [grant] = grants()
    assert grant.reason == "active_threat"
    [exception] = entries(action=AuditEntry.Action.GUARDRAIL_EXCEPTION)
    assert exception.actor_email == admin.email
    assert f"approval request {held.pk}" in exception.reason
    today = timezone.localdate()
    with schema_context("concord"):
        months = guardrail_exceptions_by_month(today - timedelta(days=40), today)
        assert months[-1] == (today.replace(day=1), 1)
        assert all(count == 0 for _month, count in months[:-1])
    with schema_context("carrollton"):
        assert guardrail_exceptions_by_month(today, today) == [(today.replace(day=1), 0)]


def test_without_overrides_an_emergency_outside_the_guardrails_is_refused(investigator, camera):
    guardrails_set(live_reasons_allowed=["investigation"])
    response = investigator.client.post(
        open_url(camera), {"reason": "active_threat", "case_number": "CPD-9"}
    )
    assert response.status_code == 200
    assert approvals() == []
    assert grants() == []


def test_the_live_refusal_is_in_spanish(investigator, camera):
    with time_machine.travel(SET_ON):
        guardrails_set(live_grant_minutes_max=10)
    investigator.client.cookies["django_language"] = "es"
    page = investigator.client.post(
        open_url(camera), {"reason": "active_threat", "case_number": "CPD-1", "minutes": "11"}
    ).content.decode()
    assert (
        "Este departamento permite vistas en directo de 10 minutos como máximo "
        "(límite fijado el 2026-11-26 por un administrador)."
    ) in page
    with translation.override("es"), schema_context("concord"):
        assert guardrail_exceptions_by_month(date(2026, 1, 1), date(2026, 2, 1)) == [
            (date(2026, 1, 1), 0),
            (date(2026, 2, 1), 0),
        ]
