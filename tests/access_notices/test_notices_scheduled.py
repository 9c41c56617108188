"""The notices' job is in the timetable: beat's fan-out runs it in each department's own schema,
and the cron command does the same for every department; each city emails its own owners."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from canvass.schedule import JOBS, beat_schedule
from tests.access_notices.helpers import incident_open, notices_to, owner, reveal

pytestmark = pytest.mark.django_db


def test_the_job_is_scheduled_and_the_fan_out_runs_it_per_department(
    make_resident, site_data, make_staff
):
    from canvass.celery import app

    investigator = make_staff("concord", "investigator")
    alice = owner(make_resident, site_data)
    incident = incident_open("concord", investigator.email)
    reveal("concord", investigator.email, incident, alice.site_id)

    app.loader.import_default_modules()
    entry = beat_schedule()["access_notices"]
    assert JOBS["access_notices"].task == "portal.access_notices.tasks.access_notices"
    assert app.tasks[entry["task"]].apply(args=entry["args"]).get() == 3  # every city
    assert len(notices_to("alice@example.org")) == 1
    assert app.tasks[entry["task"]].apply(args=entry["args"]).get() == 3
    assert len(notices_to("alice@example.org")) == 1


def test_the_command_runs_for_every_department_and_sends_nothing_twice(
    make_resident, site_data, make_staff
):
    concord = make_staff("concord", "investigator")
    carrollton = make_staff("carrollton", "investigator")
    alice = owner(make_resident, site_data)
    carla = owner(make_resident, site_data, "carrollton", email="carla@example.org")
    reveal("concord", concord.email, incident_open("concord", concord.email), alice.site_id)
    reveal(
        "carrollton",
        carrollton.email,
        incident_open("carrollton", carrollton.email, case_number="CPD-GA-77"),
        carla.site_id,
    )
    with open("/dev/null", "w") as quiet:
        call_command("access_notices", stdout=quiet)
        call_command("access_notices", stdout=quiet)
    (alices,) = notices_to("alice@example.org")
    (carlas,) = notices_to("carla@example.org")
    assert "Concord Police Department" in alices.body
    assert "Carrollton Police Department" in carlas.body and "CPD-GA-77" in carlas.body
