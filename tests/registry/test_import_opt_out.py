"""An owner who opts out leaves nothing in pending imports: the rows with their email, phone or
name go from checked imports, from their reports and from files still waiting to be checked."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.registry.models import ImportJob
from portal.registry.storage import evidence_storage
from tests.registry.test_registry_io import ROW, csv_file, upload
from tests.residents.test_opt_out import rows_mentioning

pytestmark = pytest.mark.django_db

ALICE = ["alice@example.org", "Alice Moreno", "+17045550142", "704-555-0142", "Second Ave"]
KIM = ROW | {
    "site_ref": "K",
    "address": "9 Kim Rd",
    "contact_name": "Kim",
    "contact_email": "kim@example.org",
    "contact_phone": "",
}
ALICE_ROWS = [
    ROW | {"site_ref": "A1", "address": "1 Second Ave", "contact_email": "ALICE@example.org"},
    ROW | {"site_ref": "A2", "address": "2 Second Ave", "contact_phone": "704-555-0142"},
    ROW | {"site_ref": "A3", "address": "3 Second Ave", "contact_name": "alice  moreno"},
]


def stored(name: str) -> str:
    with evidence_storage().open(name) as file:
        return file.read().decode()


def import_files() -> set[str]:
    storage = evidence_storage()
    folder = "concord/imports"
    return (
        {f"{folder}/{n}" for n in storage.listdir(folder)[1]} if storage.exists(folder) else set()
    )


def test_opting_out_removes_the_owners_rows_from_pending_imports(
    make_resident, make_staff, site_data, django_capture_on_commit_callbacks
):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    admin = make_staff("concord", "administrator")
    before = import_files()
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin, csv_file([*ALICE_ROWS, KIM], name="checked.csv"))
    from canvass.celery import app

    app.conf.task_always_eager = False
    try:
        admin.client.post(
            "/department/import/", {"file": csv_file([*ALICE_ROWS, KIM], name="queued.csv")}
        )
    finally:
        app.conf.task_always_eager = True
    with schema_context("concord"):
        jobs = {job.filename: job for job in ImportJob.objects.all()}
        assert jobs["checked.csv"].sites.count() == 4
        assert "ALICE@example.org" in stored(jobs["queued.csv"].stored_name)

    with django_capture_on_commit_callbacks(execute=True):
        response = alice.client.post("/my/leave/", {"confirm": "on", "close_account": "on"})
    assert response.status_code == 200

    assert rows_mentioning("concord", ALICE) == []
    for name in import_files() - before:
        content = stored(name).casefold()
        assert not [needle for needle in ALICE if needle.casefold() in content], name
    with schema_context("concord"):
        checked = ImportJob.objects.get(filename="checked.csv")
        assert [site.fields["contact_email"] for site in checked.sites.all()] == ["kim@example.org"]
        assert checked.site_count == 1
        queued = ImportJob.objects.get(filename="queued.csv")
        assert queued.revision == 1
        assert "kim@example.org" in stored(queued.stored_name)

        # The check then reads the rewritten file.
        from portal.department.tasks import registry_import_check

        registry_import_check(queued.pk)
        queued.refresh_from_db()
        assert (queued.status, queued.site_count) == ("checked", 1)


def test_other_owners_rows_stay(make_resident, make_staff, site_data):
    bob = make_resident("concord", email="bob@example.org")
    bob.client.post(
        "/register/",
        site_data(
            contact_name="Bob Lee", contact_email="bob@example.org", contact_phone="(704) 555-0199"
        ),
    )
    admin = make_staff("concord", "administrator")
    upload(admin, csv_file([*ALICE_ROWS, KIM]))
    bob.client.post("/my/leave/", {"confirm": "on"})
    with schema_context("concord"):
        assert ImportJob.objects.get().sites.count() == 4
