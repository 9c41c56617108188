"""Reveals under the guardrails: a second staff member's approval where the department wants
one, an administrator's beyond the daily cap; the request waits in the console's queue, the
requester cannot approve it, an approval is used once, and on approval the reveal is made and
recorded naming both people."""

from __future__ import annotations

import pytest
from django.utils import translation
from django_tenants.utils import schema_context

from portal.department import services
from portal.guardrails import services as guardrail_services
from portal.guardrails.models import ApprovalRequest
from portal.guardrails.rules import ApprovalNeeded
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, StaffMember
from tests.guardrails.conftest import approvals, entries, guardrails_set

pytestmark = pytest.mark.django_db


def actor(email: str) -> Actor:
    return Actor.of_staff(StaffMember.objects.select_related("user").get(user__email=email), None)


def test_without_guardrails_a_reveal_is_shown_at_once(investigator, reveal_url):
    response = investigator.client.post(reveal_url, {"note": ""})
    assert response.status_code == 200
    assert "Alice Moreno" in response.content.decode()
    assert len(entries(action=AuditEntry.Action.REVEAL)) == 1


def test_the_service_holds_a_reveal_for_a_second_approval(investigator, site, incident):
    guardrails_set(reveal_second_approval=True)
    with schema_context("concord"), pytest.raises(ApprovalNeeded) as needed:
        services.contact_reveal(
            actor=actor(investigator.email), site=site, incident=incident, note=""
        )
    assert needed.value.rule == ApprovalRequest.Rule.SECOND_APPROVAL
    assert "requires a second staff member to approve each reveal" in needed.value.message
    assert entries(action=AuditEntry.Action.REVEAL) == []


def test_a_second_staff_member_approves_a_reveal_in_the_console(
    investigator, second_investigator, reveal_url
):
    guardrails_set(reveal_second_approval=True)
    response = investigator.client.post(reveal_url, {"note": "Door camera faces the lot"})
    page = response.content.decode()
    assert response.status_code == 202
    assert "waits for another staff member's approval" in page
    assert "Alice Moreno" not in page
    assert entries(action=AuditEntry.Action.REVEAL) == []
    [held] = approvals(status="pending")

    # The requester cannot decide their own request, and is not offered it.
    assert (
        "/decide/"
        not in investigator.client.get("/department/guardrails/approvals/").content.decode()
    )
    response = investigator.client.post(
        f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 409
    assert "You cannot approve or decline your own request" in response.content.decode()
    assert approvals(status="pending") == [held]

    # The other investigator sees it on the dashboard and in the queue, and approves.
    assert (
        "1 request waits for your approval."
        in second_investigator.client.get("/department/").content.decode()
    )
    response = second_investigator.client.post(
        f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 302
    [reveal] = entries(action=AuditEntry.Action.REVEAL)
    assert reveal.actor_email == investigator.email
    assert f"approved by {second_investigator.email} (approval request {held.pk})" in reveal.reason
    assert reveal.note == "Door camera faces the lot"

    # The requester now sees the contact details.
    response = investigator.client.get(f"/department/guardrails/approvals/{held.pk}/")
    assert "Alice Moreno" in response.content.decode()
    # ... and nobody else does through this page.
    assert (
        second_investigator.client.get(f"/department/guardrails/approvals/{held.pk}/").status_code
        == 404
    )

    # An approval is used once.
    response = second_investigator.client.post(
        f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 409
    assert "already been decided" in response.content.decode()
    assert len(entries(action=AuditEntry.Action.REVEAL)) == 1


def test_a_declined_reveal_shows_and_records_nothing(investigator, second_investigator, reveal_url):
    guardrails_set(reveal_second_approval=True)
    investigator.client.post(reveal_url, {"note": ""})
    [held] = approvals()
    second_investigator.client.post(
        f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "decline"}
    )
    assert approvals(status="declined") == [held]
    assert entries(action=AuditEntry.Action.REVEAL) == []
    assert (
        investigator.client.get(f"/department/guardrails/approvals/{held.pk}/").status_code == 404
    )


def test_over_the_daily_cap_an_administrator_approves(
    investigator, second_investigator, admin, reveal_url
):
    guardrails_set(reveal_daily_cap=2)
    for _ in range(2):
        assert investigator.client.post(reveal_url, {"note": ""}).status_code == 200
    response = investigator.client.post(reveal_url, {"note": ""})
    assert response.status_code == 202
    assert "You have revealed 2 contacts today, this department&#x27;s daily cap" in (
        response.content.decode()
    )
    assert "waits for an administrator's approval" in response.content.decode()
    [held] = approvals(status="pending")
    assert held.rule == ApprovalRequest.Rule.DAILY_CAP
    # Another staff member's cap is their own.
    assert second_investigator.client.post(reveal_url, {"note": ""}).status_code == 200

    # An investigator may not approve beyond the cap: a supervisor does.
    response = second_investigator.client.post(
        f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 409
    assert "An administrator decides this request." in response.content.decode()
    response = admin.client.post(
        f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 302
    mine = entries(action=AuditEntry.Action.REVEAL, actor_email=investigator.email)
    assert len(mine) == 3
    assert f"approved by {admin.email}" in mine[-1].reason


def test_an_approval_from_another_city_is_not_found(
    investigator, second_investigator, reveal_url, make_staff
):
    guardrails_set(reveal_second_approval=True)
    investigator.client.post(reveal_url, {"note": ""})
    [held] = approvals()
    carrollton = make_staff("carrollton", "administrator")
    assert approvals("carrollton") == []
    response = carrollton.client.post(
        f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "approve"}
    )
    assert response.status_code == 404
    assert approvals(status="pending") == [held]
    assert entries(action=AuditEntry.Action.REVEAL) == []
    assert entries("carrollton", action=AuditEntry.Action.REVEAL) == []


def test_the_same_request_id_in_two_cities_is_each_citys_own(
    investigator, second_investigator, reveal_url, make_staff
):
    """Carrollton's request with Concord's id: deciding it in Carrollton leaves Concord's."""
    guardrails_set(reveal_second_approval=True)
    investigator.client.post(reveal_url, {"note": ""})
    [held] = approvals()
    with schema_context("carrollton"):
        officer = StaffMember.objects.get(
            user__email=make_staff("carrollton", "investigator").email
        )
        ApprovalRequest.objects.create(
            pk=held.pk, kind="reveal", rule="second_approval", why="x", requested_by=officer
        )
    carrollton_admin = make_staff("carrollton", "administrator")
    response = carrollton_admin.client.post(
        f"/department/guardrails/approvals/{held.pk}/decide/", {"decision": "decline"}
    )
    assert response.status_code == 302
    assert approvals("carrollton", status="declined")[0].pk == held.pk
    assert approvals(status="pending") == [held]


def test_the_refusals_of_a_decision_are_in_spanish(investigator, reveal_url):
    guardrails_set(reveal_second_approval=True)
    investigator.client.post(reveal_url, {"note": ""})
    [held] = approvals()
    with (
        schema_context("concord"),
        translation.override("es"),
        pytest.raises(guardrail_services.ApprovalRefused) as refused,
    ):
        guardrail_services.approval_decide(
            actor=actor(investigator.email), approval=held, approve=True
        )
    assert refused.value.message == (
        "No puede aprobar ni rechazar su propia solicitud: decide otro miembro del personal."
    )
    investigator.client.cookies["django_language"] = "es"
    guardrails_set(reveal_second_approval=True)
    page = investigator.client.post(reveal_url, {"note": ""}).content.decode()
    assert "Este departamento exige que un segundo miembro del personal apruebe" in page
