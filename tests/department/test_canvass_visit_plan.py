"""Whether a staff member's canvass visit is already recorded is asked on every canvass page: it
is read from the incident's own entries through the visits' index (auditentry_canvass_visit),
not by filtering every canvass view the department ever recorded. Checked on the plan
PostgreSQL chooses with thousands of other visits in the trail, and on the answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.services import CANVASS_VISITED
from portal.registry.models import AuditEntry

pytestmark = pytest.mark.django_db

VISITS = 3_000


def test_the_visit_check_reads_the_incidents_visits_from_their_index():
    with schema_context("concord"):
        AuditEntry.objects.bulk_create(
            AuditEntry(
                actor_email=f"staff{n % 40}@concord.example.org",
                actor_role="investigator",
                action=AuditEntry.Action.CANVASS_VIEW if n % 4 else AuditEntry.Action.REVEAL,
                incident_id=n % 500,
                case_number=f"C-{n % 500}",
                reason="Canvass of 12 sites with addresses",
            )
            for n in range(VISITS)
        )
        since = timezone.now() - timedelta(minutes=30)
        plan = CANVASS_VISITED.build(
            actor_email="staff1@concord.example.org", incident_id=41, since=since
        ).explain()
        assert "auditentry_canvass_visit" in plan, plan
        assert "Sort" not in plan, plan
        # Staff 1 visited incident 41 (entry 41, a canvass view); staff 2 did not, and nobody
        # visited it within the half hour after the trail's last entry.
        assert CANVASS_VISITED.rows(
            actor_email="staff1@concord.example.org", incident_id=41, since=since
        )
        assert not CANVASS_VISITED.rows(
            actor_email="staff2@concord.example.org", incident_id=41, since=since
        )
        assert not CANVASS_VISITED.rows(
            actor_email="staff1@concord.example.org",
            incident_id=41,
            since=timezone.now() + timedelta(minutes=1),
        )
