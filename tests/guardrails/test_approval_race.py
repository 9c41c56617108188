"""Two staff members deciding the same request at once, on two connections, committed: the
request's row is locked, one decision wins and the other is told it was already decided."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.db import connections
from django_tenants.utils import schema_context

from portal.guardrails import services
from portal.guardrails.models import ApprovalRequest
from portal.registry.audit import Actor
from portal.registry.models import StaffMember
from tests.conftest import assert_test_database

CITY = "carrollton"
EMAILS = [f"race-{n}@carrollton.example.org" for n in range(3)]


@pytest.fixture
def approval_pk(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A pending request of one investigator, and two others who may decide it, committed."""
    with django_db_blocker.unblock():
        assert_test_database()
        with schema_context(CITY):
            users = get_user_model().objects
            staff = [
                StaffMember.objects.create(
                    user=users.create_user(username=email, email=email), role="investigator"
                )
                for email in EMAILS
            ]
            approval = ApprovalRequest.objects.create(
                kind=ApprovalRequest.Kind.REVEAL,
                rule=ApprovalRequest.Rule.SECOND_APPROVAL,
                why="A second staff member approves each reveal.",
                requested_by=staff[0],
            )
        try:
            yield approval.pk
        finally:
            with schema_context(CITY):
                ApprovalRequest.objects.filter(pk=approval.pk).delete()
                StaffMember.objects.filter(user__email__in=EMAILS).delete()
                users.filter(email__in=EMAILS).delete()
            connections.close_all()


def test_two_decisions_at_once_one_wins(approval_pk, django_db_blocker):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(email: str) -> None:
        with django_db_blocker.unblock():
            try:
                with schema_context(CITY):
                    staff = StaffMember.objects.select_related("user").get(user__email=email)
                    approval = ApprovalRequest.objects.get(pk=approval_pk)
                    barrier.wait()
                    try:
                        services.approval_decide(
                            actor=Actor.of_staff(staff, None), approval=approval, approve=False
                        )
                    except services.ApprovalRefused as refused:
                        outcomes.append(refused.message)
                    else:
                        outcomes.append("decided")
            finally:
                connections.close_all()

    threads = [threading.Thread(target=decide, args=(email,)) for email in EMAILS[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["This request has already been decided.", "decided"]
    with django_db_blocker.unblock(), schema_context(CITY):
        assert ApprovalRequest.objects.get(pk=approval_pk).status == "declined"
