"""Claiming the next copies of a notice reads their index entries, not every copy of the notice:
checked on the plan PostgreSQL chooses right after the copies are written (before any ANALYZE,
as when the job runs), not by timing."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import Incident, Notification, NotificationRecipient
from portal.department.tasks import CLAIM_BATCH, claim_next_statement
from portal.registry.models import Participant

pytestmark = pytest.mark.django_db


def test_the_next_copies_are_claimed_through_their_index():
    with schema_context("concord"):
        user_model = get_user_model()
        users = user_model.objects.bulk_create(
            user_model(username=f"copy{n}@claims.example.org", email=f"copy{n}@claims.example.org")
            for n in range(3_000)
        )
        owners = Participant.objects.bulk_create(Participant(user=user) for user in users)
        incident = Incident.objects.create(
            kind="other",
            case_number="CLAIMS-1",
            latitude=35.41,
            longitude=-80.58,
            starts_at=timezone.now(),
            ends_at=timezone.now(),
            radius_m=1_000,
            opened_by=users[0],
        )
        notification = Notification.objects.create(
            incident=incident, message="Check", radius_m=1_000, created_by=users[0]
        )
        copies = NotificationRecipient.objects.bulk_create(
            NotificationRecipient(notification=notification, participant=owner) for owner in owners
        )
        statement = claim_next_statement()
        with connection.cursor() as cursor:
            cursor.execute(
                f"EXPLAIN {statement}",
                {
                    "now": timezone.now(),
                    "notification": notification.pk,
                    "after": copies[1_000].pk,
                    "size": CLAIM_BATCH,
                    "sent": [copy.pk for copy in copies[1_000 - CLAIM_BATCH : 1_000]],
                    "claim": uuid.uuid4(),
                },
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "recipient_next_copy" in plan, plan
    assert "Sort" not in plan, plan
