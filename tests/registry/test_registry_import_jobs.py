"""Imports run as background jobs: the upload request only stores the file, a job checks every
row once with progress, the confirmation queues a second job that writes all or nothing without
checking the rows again, and each step that shows owners' details to staff is recorded."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from portal.registry import registry_io, services
from portal.registry.models import AuditEntry, Camera, ImportJob, ImportSite, Site
from portal.registry.storage import evidence_storage
from tenants.models import Program
from tests.registry.test_registry_io import ROW, counts, csv_file, page_of, upload

pytestmark = pytest.mark.django_db

ROWS = [
    ROW,
    ROW | {"camera_label": "Lot", "camera_sees": "parking"},
    ROW | {"site_ref": "B2", "address": "40 Union St S", "contact_email": "kim@example.org"},
]


@pytest.fixture
def queued():
    """A broker that keeps tasks until a worker takes them, as in production: nothing runs in
    the request."""
    from canvass.celery import app

    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager = True


def import_files() -> list[str]:
    """The import files in private storage, under Concord's prefix."""
    storage = evidence_storage()
    return (
        sorted(storage.listdir("concord/imports")[1]) if storage.exists("concord/imports") else []
    )


def job() -> ImportJob:
    with schema_context("concord"):
        return ImportJob.objects.latest("pk")


def audit(action: str) -> list[AuditEntry]:
    with schema_context("concord"):
        return list(AuditEntry.objects.filter(action=action))


def test_the_upload_request_only_stores_the_file(admin, queued):
    before = set(import_files())
    response = admin.client.post("/department/import/", {"file": csv_file(ROWS)})
    assert response.status_code == 302
    pending = job()
    assert response["Location"] == f"/department/import/{pending.pk}/"
    assert (pending.status, pending.rows_checked) == ("checking", 0)
    assert pending.stored_name.startswith("concord/imports/")
    assert set(import_files()) - before
    page = page_of(admin.client.get(response["Location"]))
    assert "Checking" in page
    assert 'http-equiv="refresh"' in page  # for browsers without JavaScript
    assert "department/import.js" in page
    assert "<script>" not in page  # no inline script: the CSP forbids it
    status = admin.client.get(f"/department/import/{pending.pk}/status.json").json()
    assert status == {
        "status": "checking",
        "running": True,
        "rows": 0,
        "rows_checked": 0,
        "percent": 0,
    }
    # The worker's turn.
    from portal.department.tasks import registry_import_check

    with schema_context("concord"):
        registry_import_check(pending.pk)
    status = admin.client.get(f"/department/import/{pending.pk}/status.json").json()
    assert status | {"percent": 100} == {
        "status": "checked",
        "running": False,
        "rows": 3,
        "rows_checked": 3,
        "percent": 100,
    }


def test_the_check_reports_its_progress(admin, monkeypatch):
    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(registry_io, "PROGRESS_EVERY", 2)
    real = ImportJob.objects.filter

    def spy(*args, **kwargs):
        queryset = real(*args, **kwargs)
        update = queryset.update

        def recorded(**fields):
            if "rows_checked" in fields and len(fields) == 2:
                seen.append((fields["rows_checked"], fields["rows"]))
            return update(**fields)

        queryset.update = recorded
        return queryset

    monkeypatch.setattr(ImportJob.objects, "filter", spy)
    upload(admin, csv_file([ROW | {"camera_label": f"C{n}"} for n in range(5)]))
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]


def test_the_preview_is_recorded_in_the_audit_trail(admin):
    response = upload(admin, csv_file(ROWS))
    assert "12 Church St N, Concord, NC" in page_of(response)
    (entry,) = audit("import_preview")
    assert entry.actor_email == admin.email
    assert entry.reason == f"Registry import {job().pk} previewed: 2 of 2 sites"


def test_a_report_without_addresses_is_not_recorded(admin):
    upload(admin, csv_file([ROW | {"latitude": "north"}]))
    assert audit("import_preview") == []


def test_the_commit_writes_every_row_without_checking_them_again(
    admin, monkeypatch, django_capture_on_commit_callbacks
):
    before = set(import_files())
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(admin, csv_file(ROWS))
    job_path = response.redirect_chain[-1][0]
    assert set(import_files()) == before  # the checked rows are kept, the file is not

    def no_second_check(*args, **kwargs):
        raise AssertionError("a row was checked twice")

    monkeypatch.setattr(registry_io.RowChecker, "check", no_second_check)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.client.post(f"{job_path}commit/", follow=True)
    assert "Imported: 2 sites (3 cameras)." in page_of(response)
    assert counts() == (2, 3)
    (entry,) = audit("import")
    assert (entry.actor_email, entry.reason) == (admin.email, "Registry import: 2 sites")
    done = job()
    assert (done.status, done.site_count, done.committed_by.user.email) == (
        "done",
        2,
        admin.email,
    )
    with schema_context("concord"):
        assert ImportSite.objects.count() == 0


def test_a_site_registered_between_check_and_commit_fails_the_whole_import(
    admin, make_resident, site_data
):
    row = ROW | {
        "site_ref": "X",
        "address": "77 Union St S, Concord, NC 28025",
        "latitude": "35.408",
        "longitude": "-80.581",
    }
    response = upload(admin, csv_file([*ROWS, row]))
    make_resident("concord").client.post("/register/", site_data())
    response = admin.client.post(f"{response.redirect_chain[-1][0]}commit/", follow=True)
    page = page_of(response)
    assert "1 problem: nothing was imported." in page
    assert "Row 5: This site has been registered since the check." in page
    assert counts() == (1, 1)  # the resident's own site only
    assert audit("import") == []


def test_a_service_area_narrowed_between_check_and_commit_fails_the_whole_import(admin):
    response = upload(admin, csv_file(ROWS))
    with schema_context("public"):
        # The city draws its service area around a point 30 km away.
        Program.objects.filter(department__schema_name="concord").update(
            center_latitude=35.68, service_radius_m=5_000
        )
    response = admin.client.post(f"{response.redirect_chain[-1][0]}commit/", follow=True)
    page = page_of(response)
    assert "nothing was imported." in page
    assert "The location is now outside the department's service area." in page
    assert counts() == (0, 0)
    assert audit("import") == []


def test_a_commit_that_fails_half_way_writes_nothing(admin, monkeypatch):
    response = upload(admin, csv_file(ROWS))

    written = []

    def broken(site_ids, checked_ids):
        # The owners' accounts, participants and sites are written; the cameras fail.
        written.append((Site.objects.count(), len(site_ids)))
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(services, "_cameras_insert", broken)
    response = admin.client.post(f"{response.redirect_chain[-1][0]}commit/", follow=True)
    assert "The import could not be completed; nothing was imported." in page_of(response)
    assert written and written[0][0] == written[0][1] > 0
    assert counts() == (0, 0)
    with schema_context("concord"):
        assert not Site.objects.exists()
        assert not get_user_model().objects.filter(email="kim@example.org").exists()
        assert ImportSite.objects.count() == 0
    assert job().status == "failed"


def test_cancelling_deletes_the_file_and_the_rows_at_once(
    admin, queued, django_capture_on_commit_callbacks
):
    from portal.department.tasks import registry_import_check

    before = set(import_files())
    admin.client.post("/department/import/", {"file": csv_file(ROWS)})
    pending = job()
    assert set(import_files()) - before
    with schema_context("concord"), django_capture_on_commit_callbacks(execute=True):
        registry_import_check(pending.pk)
    assert set(import_files()) == before
    with schema_context("concord"):
        assert ImportSite.objects.filter(job=pending).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.client.post(f"/department/import/{pending.pk}/cancel/", follow=True)
    assert "The import was canceled and its file deleted." in page_of(response)
    assert job().status == "cancelled"
    with schema_context("concord"):
        assert ImportSite.objects.count() == 0
    response = admin.client.post(f"/department/import/{pending.pk}/commit/", follow=True)
    assert "This import cannot be confirmed" in page_of(response)
    assert counts() == (0, 0)


def test_a_failed_check_keeps_no_file(admin, django_capture_on_commit_callbacks):
    before = set(import_files())
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin, csv_file([ROW | {"latitude": "north"}]))
    assert job().status == "failed"
    assert set(import_files()) == before


def test_other_roles_cannot_see_an_import(admin, make_staff):
    upload(admin, csv_file(ROWS))
    investigator = make_staff("concord", "investigator")
    pk = job().pk
    for path in (f"/department/import/{pk}/", f"/department/import/{pk}/status.json"):
        assert investigator.client.get(path).status_code == 403
    assert investigator.client.post(f"/department/import/{pk}/commit/").status_code == 403
    assert audit("import_preview") and len(audit("import_preview")) == 1


def test_an_import_of_another_city_is_not_found(admin, make_staff):
    upload(admin, csv_file(ROWS))
    other = make_staff("carrollton", "administrator")
    assert other.client.get(f"/department/import/{job().pk}/").status_code == 404


def test_each_site_is_written_with_its_owner_and_its_own_cameras(admin, make_resident, site_data):
    # A site registered first: the import's ids do not start where its rows do.
    make_resident("concord").client.post("/register/", site_data())
    rows = [
        *ROWS,
        ROW | {"site_ref": "C3", "address": "9 Spring St", "camera_label": "Gate"},
        ROW | {"site_ref": "C3", "address": "9 Spring St", "camera_label": "Yard"},
    ]
    response = upload(admin, csv_file(rows))
    admin.client.post(f"{response.redirect_chain[-1][0]}commit/")
    with schema_context("concord"):
        written = {
            (camera.site.address, camera.site.participant.user.email, camera.label)
            for camera in Camera.objects.select_related("site__participant__user")
            if camera.site.address != site_data()["address"]
        }
        site = Site.objects.get(address="40 Union St S")
        camera = site.cameras.get()
    assert written == {
        ("12 Church St N, Concord, NC", "pat@example.org", "Door"),
        ("12 Church St N, Concord, NC", "pat@example.org", "Lot"),
        ("40 Union St S", "kim@example.org", "Door"),
        ("9 Spring St", "pat@example.org", "Gate"),
        ("9 Spring St", "pat@example.org", "Yard"),
    }
    assert (site.kind, site.contact_phone, site.contact_method, site.terms_version) == (
        "business",
        "+17045550170",
        "phone",
        Program.objects.get(department__schema_name="concord").terms_version,
    )
    assert (camera.direction, camera.sees, camera.retention_days, camera.night_vision) == (
        270,
        ["entrance", "sidewalk"],
        30,
        True,
    )
    assert not camera.paused and not site.paused


def test_the_commit_writes_each_field_as_the_check_kept_it(admin, make_resident, site_data):
    # An owner already registered, whose email the file writes with capitals: the same account.
    make_resident("concord", email="kim@example.org").client.post("/register/", site_data())
    rows = [
        *ROWS,
        ROW
        | {
            "site_ref": "C3",
            "address": "9 Spring St",
            "contact_email": "KIM@Example.org",
            "contact_phone": "",
            "site_type": "",
            "camera_sees": "",
            "camera_night_vision": "no",
            "camera_direction": "",
        },
    ]
    upload(admin, csv_file(rows))
    with schema_context("concord"):
        kept = {
            staged.fields["address"]: (staged.fields, staged.cameras)
            for staged in ImportSite.objects.all()
        }
    assert len(kept) == 3
    admin.client.post(f"/department/import/{job().pk}/commit/")
    assert job().status == "done"
    with schema_context("concord"):
        for address, (fields, cameras) in kept.items():
            site = Site.objects.select_related("participant__user").get(address=address)
            assert {name: getattr(site, name) for name in fields} == fields
            assert site.participant.user.email == fields["contact_email"].lower()
            written = [
                {name: getattr(camera, name) for name in cameras[0]}
                for camera in site.cameras.order_by("pk")
            ]
            assert written == cameras
        owners = get_user_model().objects.filter(email__iexact="kim@example.org")
        assert owners.count() == 1
        assert Site.objects.filter(participant__user=owners.get()).count() == 3


def test_the_check_keeps_each_site_s_rows_and_fields_as_it_checked_them(admin):
    """The check's staged sites (written with COPY as text: the rows as an integer array, the
    fields and cameras as JSON) hold what the row checks gave, non-ASCII text and quotes
    included, and every row of a site."""
    named = ROW | {
        "address": 'Calle Ñandú 12, "El Peñón", Concord, NC',
        "contact_name": "José Peña \\ Müller",
        "camera_label": "Entrada ☂",
    }
    rows = [named, named | {"camera_label": 'Lot \\ "side"', "camera_sees": "parking"}, ROWS[2]]
    upload(admin, csv_file(rows))
    assert job().status == "checked"
    with schema_context("public"):
        program = Program.objects.get(department__schema_name="concord")
    checker = registry_io.RowChecker(program)
    with schema_context("concord"):
        checks = [checker.check(row) for row in rows]
        staged = list(ImportSite.objects.order_by("pk"))
    assert [site.rows for site in staged] == [[2, 3], [4]]
    assert staged[0].fields == checks[0][1] and staged[1].fields == checks[2][1]
    assert staged[0].cameras == [checks[0][2], checks[1][2]]
    assert staged[0].fields["contact_name"] == "José Peña \\ Müller"
    assert [camera["label"] for camera in staged[0].cameras] == ["Entrada ☂", 'Lot \\ "side"']
