"""A department may hold the notices of an open investigation back, per case, with a reason,
within its own maximum (at most 90 days); the notice goes out after the delay, not before, says
so, and the delays are counted per month."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.access_notices.models import InvestigationDelay, NoticeSettings
from portal.access_notices.selectors import MonthDelays, access_notice_delays_by_month
from tests.access_notices.helpers import incident_open, notices_to, owner, reveal, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def investigator(make_staff):
    return make_staff("concord", "investigator", email="detective.hale@concord.example.org")


def delay_post(staff, incident, days, reason="Suspect not yet interviewed", **extra):
    return staff.client.post(
        f"/department/notices/incidents/{incident.pk}/",
        {"days": days, "reason": reason},
        **extra,
    )


def test_a_delayed_notice_goes_out_after_the_delay_and_says_so(
    make_resident, site_data, investigator
):
    alice = owner(make_resident, site_data)
    incident = incident_open("concord", investigator.email, case_number="CPD-2026-0300")
    response = delay_post(investigator, incident, "30")
    assert response.status_code == 302
    reveal("concord", investigator.email, incident, alice.site_id)

    now = timezone.now()
    run(now=now)
    run(now=now + timedelta(days=29))
    assert notices_to("alice@example.org") == []
    # The owner's access page holds the entry back too, until the notice goes out.
    page = alice.client.get("/my/access/").content.decode()
    assert "CPD-2026-0300" not in page

    run(now=now + timedelta(days=30, minutes=1))
    run(now=now + timedelta(days=31))

    (message,) = notices_to("alice@example.org")
    assert "This notice was delayed 30 days for an open investigation." in message.body
    assert "case CPD-2026-0300" in message.body
    assert "CPD-2026-0300" in alice.client.get("/my/access/").content.decode()


def test_a_reveal_made_before_the_delay_is_held_too_and_closing_releases_it(
    make_resident, site_data, investigator
):
    alice = owner(make_resident, site_data, language="es")
    incident = incident_open("concord", investigator.email)
    reveal("concord", investigator.email, incident, alice.site_id)
    with schema_context("concord"):
        from portal.access_notices.services import notices_collect

        notices_collect()
    delay_post(investigator, incident, "20")
    run()
    assert notices_to("alice@example.org") == []

    response = investigator.client.post(f"/department/notices/incidents/{incident.pk}/close/")
    assert response.status_code == 302
    run()
    (message,) = notices_to("alice@example.org")
    assert "Motivo: Burglary" in message.body
    assert "retrasó" not in message.body  # released at once: not held a day


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ("45", "The department allows delays of at most 30 days."),
        ("91", "No notice can be delayed more than 90 days."),
        ("-3", "A delay cannot be negative."),
        ("0", "A delay is at least 1 day."),
        ("ten", "Give the delay as a whole number of days."),
    ],
)
def test_a_delay_outside_the_bounds_is_refused_and_nothing_is_written(investigator, days, message):
    incident = incident_open("concord", investigator.email)
    response = delay_post(investigator, incident, days)
    assert response.status_code == 400
    assert message in response.content.decode()
    with schema_context("concord"):
        assert not InvestigationDelay.objects.exists()


def test_a_delay_without_a_reason_is_refused(investigator):
    incident = incident_open("concord", investigator.email)
    response = delay_post(investigator, incident, "10", reason="  ")
    assert response.status_code == 400
    assert "Give the reason for the delay" in response.content.decode()


def test_the_refusal_is_in_the_staff_members_language(investigator):
    incident = incident_open("concord", investigator.email)
    response = delay_post(investigator, incident, "-1", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400
    assert "Un retraso no puede ser negativo." in response.content.decode()


def test_a_closed_investigation_cannot_be_delayed(investigator):
    incident = incident_open("concord", investigator.email)
    investigator.client.post(f"/department/notices/incidents/{incident.pk}/close/")
    response = delay_post(investigator, incident, "10")
    assert response.status_code == 400
    assert "This investigation is closed: its notices cannot be delayed." in (
        response.content.decode()
    )
    with schema_context("concord"):
        assert not InvestigationDelay.objects.exists()


def test_a_second_delay_of_the_same_case_is_refused(investigator):
    incident = incident_open("concord", investigator.email)
    assert delay_post(investigator, incident, "10").status_code == 302
    response = delay_post(investigator, incident, "20")
    assert response.status_code == 400
    assert "already delayed" in response.content.decode()
    with schema_context("concord"):
        assert list(InvestigationDelay.objects.values_list("days", flat=True)) == [10]


def test_staff_without_casework_cannot_delay_or_close(make_staff, investigator):
    analyst = make_staff("concord", "analyst")
    incident = incident_open("concord", investigator.email)
    assert delay_post(analyst, incident, "10").status_code == 403
    assert (
        analyst.client.post(f"/department/notices/incidents/{incident.pk}/close/").status_code
        == 403
    )
    with schema_context("concord"):
        assert not InvestigationDelay.objects.exists()


def test_the_administrator_sets_the_departments_maximum_within_90_days(make_staff, investigator):
    admin = make_staff("concord", "administrator")
    page = admin.client.get("/department/notices/settings/")
    assert page.status_code == 200
    refused = admin.client.post("/department/notices/settings/", {"delay_max_days": "120"})
    assert refused.status_code == 400
    assert "The longest delay is between 0 and 90 days." in refused.content.decode()
    assert (
        admin.client.post("/department/notices/settings/", {"delay_max_days": "60"}).status_code
        == 302
    )
    with schema_context("concord"):
        assert NoticeSettings.objects.get().delay_max_days == 60
    incident = incident_open("concord", investigator.email)
    assert delay_post(investigator, incident, "45").status_code == 302
    # Investigators set delays, not the maximum.
    assert investigator.client.get("/department/notices/settings/").status_code == 403


def test_delays_are_counted_per_month(make_resident, site_data, investigator):
    alice = owner(make_resident, site_data)
    first = incident_open("concord", investigator.email, case_number="CPD-2026-0401")
    second = incident_open("concord", investigator.email, case_number="CPD-2026-0402")
    delay_post(investigator, first, "10")
    delay_post(investigator, second, "5")
    reveal("concord", investigator.email, first, alice.site_id)
    reveal("concord", investigator.email, first, alice.site_id)
    run()
    with schema_context("concord"):
        from tenants.models import Department

        zone = Department.objects.get(schema_name="concord").zone
        today = timezone.now().astimezone(zone).date()
        this_month = date(today.year, today.month, 1)
        months = access_notice_delays_by_month(this_month - timedelta(days=40), today)
    assert months[-1] == MonthDelays(this_month, delays=2, notices_delayed=2)
    assert len(months) == 3  # 40 days back from the 1st: two months before, zeros included
    assert months[0].delays == 0 and months[0].notices_delayed == 0
    # Carrollton's count is its own.
    with schema_context("carrollton"):
        assert access_notice_delays_by_month(this_month, today)[-1].delays == 0
