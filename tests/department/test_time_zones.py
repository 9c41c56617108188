"""Times are the city's local time: typed, stored as the right instant, shown, emailed and
computed with in the department's zone (Concord: America/New_York, Little Rock:
America/Chicago, and a far one, Pacific/Honolulu), in requests, jobs and commands."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from portal.department.models import Incident, Notification
from portal.department.tasks import notify_area
from tenants.models import Department, Program
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db


def incident_post(schema_name: str, **overrides: str) -> dict[str, str]:
    with schema_context("public"):
        program = Program.objects.get(department__schema_name=schema_name)
    return (
        incident_post_data(
            case_number="CASE-21",
            address="Main St",
            latitude=str(program.center_latitude),
            longitude=str(program.center_longitude),
        )
        | overrides
    )


def the_incident(schema_name: str) -> Incident:
    with schema_context(schema_name):
        return Incident.objects.get()


@pytest.mark.parametrize(
    ("schema_name", "stored"),
    [
        # 21:00 on 20 November is 02:00 UTC the next day in Concord (EST, UTC-5)...
        ("concord", datetime(2026, 11, 21, 2, 0, tzinfo=UTC)),
        # ...and 03:00 UTC in Little Rock (CST, UTC-6).
        ("littlerock", datetime(2026, 11, 21, 3, 0, tzinfo=UTC)),
    ],
)
def test_a_typed_time_is_read_in_the_citys_zone(make_staff, schema_name, stored):
    investigator = make_staff(schema_name, "investigator")
    response = investigator.client.post("/department/incidents/", incident_post(schema_name))
    assert response.status_code == 302
    incident = the_incident(schema_name)
    assert incident.starts_at == stored
    assert incident.ends_at == stored.replace(hour=stored.hour + 2)


def test_a_far_zone_moves_the_date(make_staff):
    with schema_context("public"):
        Department.objects.filter(schema_name="carrollton").update(time_zone="Pacific/Honolulu")
    investigator = make_staff("carrollton", "investigator")
    investigator.client.post("/department/incidents/", incident_post("carrollton"))
    # 21:00 in Honolulu (UTC-10) is 07:00 UTC on the next day.
    assert the_incident("carrollton").starts_at == datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    page = investigator.client.get(f"/department/incidents/{the_incident('carrollton').pk}/")
    assert "Nov. 20, 2026, 9 p.m." in page.content.decode()


def test_the_form_names_the_zone_times_are_typed_in(make_staff):
    concord = make_staff("concord", "investigator").client.get("/department/incidents/")
    littlerock = make_staff("littlerock", "investigator").client.get("/department/incidents/")
    assert "Times are Concord time (America/New_York)." in concord.content.decode()
    assert "Times are Little Rock time (America/Chicago)." in littlerock.content.decode()


def nine_pm_in_concord(opened_by: object) -> Incident:
    """An incident stored as 02:00 to 04:00 UTC: 9 to 11 p.m. the evening before in Concord."""
    return Incident.objects.create(
        kind="crime",
        case_number="CPD-9PM",
        latitude=35.408,
        longitude=-80.581,
        starts_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC),
        ends_at=datetime(2026, 11, 21, 4, 0, tzinfo=UTC),
        radius_m=500,
        opened_by=opened_by,
    )


def test_pages_show_stored_times_in_local_time(make_staff):
    investigator = make_staff("concord", "investigator")
    with schema_context("concord"):
        incident = nine_pm_in_concord(get_user_model().objects.get(email=investigator.email))
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert "Nov. 20, 2026, 9 p.m." in page
    assert "2 a.m." not in page
    listing = investigator.client.get("/department/incidents/").content.decode()
    assert "Nov. 20, 2026, 9 p.m." in listing


def test_footage_likely_counts_from_the_local_time(make_resident, make_staff, site_data):
    """A camera keeping one day of video still holds 09:00 yesterday, Concord time, at 07:00
    today (22 hours later); read as 09:00 UTC it would be 27 hours old and overwritten."""
    alice = make_resident("concord")
    alice.client.post("/register/", site_data(**{"cameras-0-retention_days": "1"}))
    investigator = make_staff("concord", "investigator")
    with time_machine.travel(datetime(2026, 11, 26, 12, 0, tzinfo=UTC), tick=False):
        investigator.client.post(
            "/department/incidents/",
            incident_post(
                "concord",
                latitude="35.4080",
                longitude="-80.5810",
                starts_at="2026-11-25T09:00",
                ends_at="2026-11-25T10:00",
            ),
        )
        incident = the_incident("concord")
        page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
        export = investigator.client.get(f"/department/incidents/{incident.pk}/canvass.csv")
    assert "Should still exist" in page
    assert "Probably overwritten" not in page
    (row,) = csv.DictReader(io.StringIO(export.content.decode()))
    assert row["footage_likely"] == "yes"


def test_a_job_emails_times_in_the_citys_zone(make_resident, make_staff, site_data):
    """The notice job, run by a worker or a command (no request, UTC active), writes the time
    to check in Concord's local time."""
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    investigator = make_staff("concord", "investigator")
    concord = Department.objects.get(schema_name="concord")
    # As a worker runs it: tenant-schemas-celery switches to the city's schema, nothing else.
    with tenant_context(concord):
        staff_user = get_user_model().objects.get(email=investigator.email)
        incident = nine_pm_in_concord(staff_user)
        notification = Notification.objects.create(
            incident=incident, message="", radius_m=500, created_by=staff_user
        )
        mail.outbox.clear()
        assert timezone.get_current_timezone_name() == "UTC"
        notify_area.apply(args=[notification.pk])
        assert timezone.get_current_timezone_name() == "UTC"
    (message,) = mail.outbox
    assert "from Nov. 20, 2026, 9 p.m. to Nov. 20, 2026, 11 p.m." in message.body


def test_requests_leave_the_thread_in_utc(make_staff):
    make_staff("concord", "investigator").client.get("/department/")
    assert timezone.get_current_timezone_name() == "UTC"


def test_the_verification_command_dates_notices_in_each_citys_zone(
    make_resident, site_data, monkeypatch
):
    """Registered at 03:00 UTC on 15 January (the evening of the 14th in Concord): the notice
    names the 14th, the local date of the anniversary."""
    registered = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    alice = make_resident("concord")
    with time_machine.travel(registered, tick=False):
        alice.client.post("/register/", site_data())
    mail.outbox.clear()
    # The notice is sent when each participant's transaction commits, inside the command; the
    # test's own transaction would hold it until the test ends, so send at once.
    monkeypatch.setattr("portal.registry.services.transaction.on_commit", lambda send: send())
    with time_machine.travel(datetime(2026, 12, 20, 12, 0, tzinfo=UTC), tick=False):
        call_command("registry_verify", stdout=io.StringIO())
    (notice,) = mail.outbox
    assert "Jan. 14, 2027" in notice.body
