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


@pytest.fixture
def queued_upload():
    """queued_upload(staff, file): upload as with a broker, where no check runs in the request;
    returns the import's job."""
    from canvass.celery import app

    def post(staff, upload_file) -> ImportJob:
        app.conf.task_always_eager = False
        try:
            staff.client.post("/department/import/", {"file": upload_file})
        finally:
            app.conf.task_always_eager = True
        with schema_context("concord"):
            return ImportJob.objects.latest("pk")

    return post


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
    make_resident, make_staff, site_data, django_capture_on_commit_callbacks, queued_upload
):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    admin = make_staff("concord", "administrator")
    before = import_files()
    with django_capture_on_commit_callbacks(execute=True):
        upload(admin, csv_file([*ALICE_ROWS, KIM], name="checked.csv"))
    queued_upload(admin, csv_file([*ALICE_ROWS, KIM], name="queued.csv"))
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


def test_an_opt_out_during_the_check_restarts_it_on_the_rewritten_file(
    make_staff, monkeypatch, queued_upload
):
    from portal.department.tasks import registry_import_check
    from portal.registry import registry_io
    from portal.registry.services import imports_forget

    admin = make_staff("concord", "administrator")
    pending = queued_upload(admin, csv_file([*ALICE_ROWS, KIM], name="racing.csv"))
    real_check = registry_io.import_check
    runs: list[int] = []

    def check_with_an_opt_out_meanwhile(*args, **kwargs):
        result = real_check(*args, **kwargs)
        runs.append(result.rows)
        if len(runs) == 1:  # the owner opts out after the file was read and checked
            imports_forget(
                emails={"alice@example.org"}, phones={"7045550142"}, names={"alice moreno"}
            )
        return result

    monkeypatch.setattr(registry_io, "import_check", check_with_an_opt_out_meanwhile)
    with schema_context("concord"):
        registry_import_check(pending.pk)
        pending.refresh_from_db()
        assert runs == [4, 1]
        assert (pending.status, pending.revision) == ("checked", 1)
        assert [site.fields["contact_email"] for site in pending.sites.all()] == ["kim@example.org"]
