"""The owner's access page lists every live view of their cameras: when, how long, which role
of which department, the reason and case, how it ended; a view whose notice the department
delays appears only once the delay has passed, with the delay stated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django_tenants.utils import schema_context

from portal.liveview.models import Grant
from portal.liveview.owner_selectors import grants_of_participant
from portal.liveview.services import grants_end
from tests.liveview.owner_fixtures import grant_make, owner_make, staff_member

pytestmark = pytest.mark.django_db

OPENED = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)  # 21:30 in Concord


def test_the_access_page_shows_each_live_view_with_role_reason_case_and_seconds(
    make_resident, site_data, make_staff
):
    alice = owner_make(make_resident, site_data)
    operator = make_staff("concord", "operator")
    staff = staff_member("concord", operator.email)
    grant = grant_make(
        "concord",
        alice.camera_ids[0],
        staff,
        reason="missing_person",
        case_number="CPD-2026-0901",
        opened_at=OPENED,
        watched_seconds=95,
    )
    with schema_context("concord"):
        assert grants_end(grants=Grant.objects.filter(pk=grant.pk), why=Grant.Ended.CLOSED) == 1
    page = alice.client.get("/my/access/").content.decode()
    assert "Live views of your cameras" in page
    assert "Real-time crime center operator, Concord Police Department" in page
    assert "Missing or endangered person, case CPD-2026-0901" in page
    assert "95 seconds watched" in page
    assert "Closed by the viewer" in page
    assert "Camera 1 · 77 Union St S" in page
    # Role and department, never the officer's address (nor the audit entries that hold it).
    assert operator.email not in page


def test_an_open_view_says_until_when_it_may_last(make_resident, site_data, make_staff):
    alice = owner_make(make_resident, site_data)
    staff = staff_member("concord", make_staff("concord", "investigator").email)
    grant_make("concord", alice.camera_ids[1], staff, reason="investigation", watched_seconds=1)
    page = alice.client.get("/my/access/").content.decode()
    assert "Still open, until" in page
    assert "Investigator, Concord Police Department" in page
    assert "Investigation follow-up, case CPD-2026-0777" in page
    assert "1 second watched" in page


def test_a_delayed_notice_is_hidden_until_the_delay_passes_then_shown_with_it(
    make_resident, site_data, make_staff
):
    alice = owner_make(make_resident, site_data)
    staff = staff_member("concord", make_staff("concord", "operator").email)
    grant_make(
        "concord",
        alice.camera_ids[0],
        staff,
        case_number="CPD-SECRET-1",
        opened_at=OPENED,
        watched_seconds=300,
        notice_delay=timedelta(hours=48),
    )
    with schema_context("concord"):
        assert grants_end(grants=Grant.objects.all(), why=Grant.Ended.EXPIRED) == 1
    with time_machine.travel(OPENED + timedelta(hours=47, minutes=59), tick=False):
        page = alice.client.get("/my/access/").content.decode()
        assert "CPD-SECRET-1" not in page
        assert "Live views of your cameras" not in page
        with schema_context("concord"):
            assert grants_of_participant(alice.resident.participant, now=OPENED) == []
    with time_machine.travel(OPENED + timedelta(hours=48, minutes=1), tick=False):
        page = alice.client.get("/my/access/").content.decode()
        assert "CPD-SECRET-1" in page
        assert "Notice delayed by the department until" in page
        assert "300 seconds watched" in page


def test_live_views_of_one_owner_are_not_shown_to_another(make_resident, site_data, make_staff):
    alice = owner_make(make_resident, site_data)
    bob = owner_make(make_resident, site_data, email="bob@example.org", cameras=1)
    staff = staff_member("concord", make_staff("concord", "operator").email)
    grant_make("concord", alice.camera_ids[0], staff, case_number="CPD-ALICE")
    assert "CPD-ALICE" not in bob.client.get("/my/access/").content.decode()
    assert "CPD-ALICE" in alice.client.get("/my/access/").content.decode()
