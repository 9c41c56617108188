"""Work for a Celery worker to be killed in the middle of (tests/faults/test_worker_killed.py),
queued the way the web process queues it: run as its own process against a private copy of the
test database and a private Redis (tests.faults.harness.canvass_environment),

    python -m tests.faults.worker_killed_setup notice 60

it writes the rows, queues the task on the broker and prints one JSON line saying what it made.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

import django

# Near Concord's centre, inside its service area: every site within 300 m of it.
LATITUDE, LONGITUDE = 35.4088, -80.5795


def notice(owners: int) -> dict[str, Any]:
    """`owners` owners with a site near an incident, and an area notice to all of them queued
    (portal.department.tasks.notify_area)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone
    from django_tenants.utils import tenant_context

    from portal.department.models import Incident, Notification
    from portal.department.tasks import notify_area
    from portal.registry.services import participant_create, site_register
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    emails = [f"owner{number}@killed.example.org" for number in range(owners)]
    with tenant_context(department):
        for number, email in enumerate(emails):
            user = get_user_model().objects.create_user(username=email, email=email)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            site_register(
                participant=participant_create(user=user),
                program=department.program,
                site={
                    "kind": "home",
                    "address": f"{number} Killed Worker St",
                    "latitude": LATITUDE + number * 0.00001,
                    "longitude": LONGITUDE,
                    "contact_name": "Owner",
                    "contact_phone": "",
                    "contact_email": email,
                    "contact_method": "email",
                    "contact_hours": "",
                },
                cameras=[
                    {
                        "label": "c",
                        "direction": 0,
                        "sees": ["street"],
                        "mount": "wall",
                        "recording": "motion",
                        "retention_days": 7,
                        "night_vision": False,
                    }
                ],
                language="en",
            )
        opener = get_user_model().objects.get(email=emails[0])
        incident = Incident.objects.create(
            kind="crime",
            case_number="KILLED-1",
            latitude=LATITUDE,
            longitude=LONGITUDE,
            starts_at=timezone.now(),
            ends_at=timezone.now(),
            radius_m=300,
            opened_by=opener,
        )
        with transaction.atomic():
            notification = Notification.objects.create(
                incident=incident, message="Check.", radius_m=300, created_by=opener
            )
            transaction.on_commit(lambda: notify_area.delay(notification.pk))
    return {"notification": notification.pk, "owners": emails}


def registry_import_checked(sites: int) -> dict[str, Any]:
    """An import of `sites` sites uploaded, its check queued
    (portal.department.tasks.registry_import_check)."""
    from django.db import transaction
    from django_tenants.utils import tenant_context

    from portal.department.tasks import registry_import_check
    from portal.registry import services
    from portal.registry.audit import Actor
    from tenants.models import Department

    department = Department.objects.get(schema_name="concord")
    with tenant_context(department), transaction.atomic():
        job = services.import_start(
            actor=Actor.system("fault-test"), filename="checked.csv", content=import_file(sites)
        )
        transaction.on_commit(lambda: registry_import_check.delay(job.pk))
    return {"job": job.pk}


def import_file(sites: int) -> bytes:
    """A CSV of `sites` new sites in Concord, one owner and one camera each."""
    from portal.registry.registry_io import COLUMNS as columns

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for number in range(sites):
        writer.writerow(
            [
                f"K{number}",
                f"{number} Import Killed Ave, Concord, NC",
                f"{LATITUDE + (number % 100) * 0.0001:.6f}",
                f"{LONGITUDE + (number // 100) * 0.0001:.6f}",
                "business",
                "registered",
                "Owner",
                "",
                f"import{number}@killed.example.org",
                "Door",
                "90",
                "street",
                "wall",
                "motion",
                "14",
                "no",
            ]
        )
    return buffer.getvalue().encode()


def registry_import(sites: int) -> dict[str, Any]:
    """An import of `sites` sites (one owner and one camera each), checked and confirmed, its
    commit queued (portal.department.tasks.registry_import_commit)."""
    from django.db import transaction
    from django_tenants.utils import tenant_context

    from portal.department.tasks import registry_import_commit
    from portal.registry import services
    from portal.registry.audit import Actor
    from portal.registry.models import ImportJob
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    actor = Actor.system("fault-test")
    with tenant_context(department):
        job = services.import_start(actor=actor, filename="killed.csv", content=import_file(sites))
        job = services.import_check_run(job_id=job.pk, program=department.program)
        if job.status != ImportJob.Status.CHECKED:
            raise SystemExit(f"the import's check failed: {job.errors[:3]}")
        with transaction.atomic():
            services.import_commit_request(actor=actor, job=job)
            transaction.on_commit(lambda: registry_import_commit.delay(job.pk))
    return {"job": job.pk, "sites": job.site_count}


def export() -> dict[str, Any]:
    """An archive of Concord requested from the vendor console, its build queued
    (console.tasks.department_export_build)."""
    from django.contrib.auth.models import AnonymousUser
    from django.db import transaction

    from console.exports import department_export_request
    from console.tasks import department_export_build
    from tenants.models import Department

    department = Department.objects.get(schema_name="concord")
    with transaction.atomic():
        requested, _created = department_export_request(
            actor=AnonymousUser(), department=department
        )
        transaction.on_commit(lambda: department_export_build.delay(requested.pk))
    return {"export": requested.pk}


def main(argv: list[str]) -> None:
    django.setup()
    scenario, *arguments = argv
    made = {
        "notice": lambda: notice(int(arguments[0])),
        "import": lambda: registry_import(int(arguments[0])),
        "import-check": lambda: registry_import_checked(int(arguments[0])),
        "export": export,
    }[scenario]()
    print(json.dumps(made))


if __name__ == "__main__":
    main(sys.argv[1:])
