"""An import's rows are checked in forked processes, a chunk at a time, and the verdicts are
exactly those of checking them in the job's own process: the same errors with the same row
numbers in the same order, the same checked sites and cameras, the same stored rows."""

from __future__ import annotations

import logging
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from portal.registry import registry_io
from portal.registry.models import ImportJob, ImportSite
from tenants.models import Program
from tests.registry.test_registry_io import ROW, csv_file, upload

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

# Good rows (sites of several cameras, across chunk boundaries) and bad ones of every kind: a
# field refused, a control character, a duplicate camera (found across rows, in the parent), a
# row with more cells than columns, participation refused, an empty required column.
GOOD = [
    ROW
    | {
        "site_ref": f"S{n // 3}",
        "address": f"{n // 3} Union St S, Concord, NC",
        "contact_email": f"owner{n // 3}@example.org",
        "camera_label": f"Camera {n % 3}",
        "camera_direction": str(n * 7 % 360),
    }
    for n in range(23)
]
BAD = {
    4: ROW | {"site_ref": "X1", "latitude": "north"},
    7: ROW | {"site_ref": "X2", "contact_name": "Pat\x07Lee"},
    9: GOOD[8],  # the same camera of the same site again
    12: ROW | {"site_ref": "X3", "participation": "integrated", "camera_retention_days": "366"},
    15: ROW | {"site_ref": "X4", "contact_email": ""},
    19: ROW | {"site_ref": "X5", "camera_mount": "ceiling?"},
}
MIXED = [row for n, good in enumerate(GOOD) for row in ([BAD[n], good] if n in BAD else [good])]


def check(rows, **options) -> registry_io.ImportCheck:
    content = csv_file(rows).read()
    with schema_context("concord"):
        program = Program.objects.get(department__schema_name="concord")
        return registry_io.import_check(content, "registry.csv", program=program, **options)


def test_checking_in_two_processes_gives_exactly_the_verdicts_of_one(caplog):
    caplog.set_level(logging.WARNING, logger=registry_io.__name__)
    alone = check(MIXED, processes=1)
    assert alone.error_count >= len(BAD) and alone.sites  # the file exercises both kinds
    forked = check(MIXED, processes=2, chunk_rows=4)
    assert forked == alone
    assert [record.message for record in caplog.records] == []  # the pool was made
    with connection.cursor() as cursor:  # the parent's connection outlived its children
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_the_stored_checked_rows_are_those_of_one_process(admin, monkeypatch, settings):
    def stored() -> list[tuple[list[int], dict, list]]:
        with schema_context("concord"):
            job = ImportJob.objects.latest("pk")
            assert job.status == ImportJob.Status.CHECKED
            return list(
                ImportSite.objects.filter(job=job)
                .order_by("pk")
                .values_list("rows", "fields", "cameras")
            )

    settings.IMPORT_CHECK_PROCESSES = 1
    upload(admin, csv_file(GOOD))
    alone = stored()
    monkeypatch.setattr(registry_io, "CHECK_CHUNK_ROWS", 4)
    settings.IMPORT_CHECK_PROCESSES = 2
    pools: list[int] = []

    class Pool(registry_io.ProcessPoolExecutor):
        def __init__(self, **options) -> None:
            pools.append(options["max_workers"])
            super().__init__(**options)

    monkeypatch.setattr(registry_io, "ProcessPoolExecutor", Pool)
    upload(admin, csv_file(GOOD))
    assert stored() == alone and len(alone) == 8
    assert pools == [2]  # the chunks were checked in two forked processes


def test_without_a_pool_the_rows_are_checked_here_and_that_is_logged(monkeypatch, caplog):
    def refused(method):
        raise OSError("no forking here")

    monkeypatch.setattr(multiprocessing, "get_context", refused)
    caplog.set_level(logging.WARNING, logger=registry_io.__name__)
    assert check(MIXED, processes=2, chunk_rows=4) == check(MIXED, processes=1)
    (record,) = caplog.records
    assert "no pool of 2 checking processes (OSError: no forking here)" in record.message


KILLED_PARENT = """
import multiprocessing, os, sys, time
import django
django.setup()
from concurrent.futures import ProcessPoolExecutor
from portal.registry import registry_io
pool = ProcessPoolExecutor(
    max_workers=2,
    mp_context=multiprocessing.get_context("fork"),
    initializer=registry_io._checking_process_start,
    initargs=(os.getpid(),),
)
sleeping = [pool.submit(time.sleep, 60) for _ in range(2)]
while len(pool._processes) < 2:
    time.sleep(0.05)
print(" ".join(str(pid) for pid in pool._processes), flush=True)
time.sleep(60)
"""


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] not in ("Z", "X")
    except FileNotFoundError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_checking_processes_end_when_their_parent_is_killed():
    """A worker killed outright (SIGKILL) in the middle of a check leaves no checking process
    behind."""
    parent = subprocess.Popen(
        [sys.executable, "-c", KILLED_PARENT],
        cwd=ROOT,
        env=os.environ
        | {
            "PYTHONPATH": f"{ROOT}:{ROOT / 'platform'}",
            "DJANGO_SETTINGS_MODULE": "canvass.settings",
        },
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        children = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(children) == 2 and all(running(pid) for pid in children)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(running(pid) for pid in children)
