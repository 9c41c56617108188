"""Storage faults (issue 16, point 5): uploads while the storage is down, hung or full, and how
soon they work again.

In a throwaway database (`bench_faults_storage_`), one department; uploads go through the
service every upload view calls (`import_start`: file first, then its row, the file deleted if
the row fails; a clip's upload does the same):
- S3 stopped: a moto server process of the bench's own, killed (SIGKILL); N uploads are
  refused (StorageUnavailable); then the server is started again and an upload is tried every
  0.1 s: the time from starting the server process to the first upload that succeeds, and from
  its port answering to that upload (what the application itself adds);
- S3 hung: the server SIGSTOPped (connections accepted, nothing answers), with the settings'
  shipped timeouts (S3_CONNECT_TIMEOUT 3 s, S3_READ_TIMEOUT 10 s, S3_MAX_ATTEMPTS 2): how long a
  refused upload takes; then SIGCONT, and whether a request the server took in while hung
  stored an object after all (an orphan);
- a full disk: a 1 MB tmpfs (needs root), filled but 64 KB, N uploads of 300 KB; then the
  filler removed: the time to the first upload that succeeds.
After each fault: rows without a file and files without a row (target 0 and 0).

    .venv/bin/python bench/faults_storage.py
    .venv/bin/python bench/faults_storage.py --uploads 50
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
from benchlib import bench_department, percentile  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")


def attempt(upload: Callable[[], Any]) -> tuple[bool, float]:
    """Whether one upload succeeded, and its seconds."""
    from tenants.storage import StorageUnavailable

    started = time.monotonic()
    try:
        upload()
    except StorageUnavailable:
        return False, time.monotonic() - started
    return True, time.monotonic() - started


def until_success(upload: Callable[[], Any], since: float, timeout: float = 60) -> float:
    """Seconds from `since` to the first upload that succeeds (one every 0.1 s)."""
    while time.monotonic() - since < timeout:
        succeeded, _seconds = attempt(upload)
        if succeeded:
            return time.monotonic() - since
        time.sleep(0.1)
    raise SystemExit(f"uploads did not succeed again within {timeout} s")


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def line(label: str, values: list[float]) -> str:
    return (
        f"{label}: {len(values)} refused, p50 {percentile(values, 0.5) * 1000:.0f} ms, "
        f"max {max(values) * 1000:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=20, help="failed uploads per fault")
    arguments = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test import override_settings
    from django.test.utils import setup_test_environment
    from django_tenants.utils import tenant_context

    from portal.registry.audit import Actor
    from portal.registry.models import ImportJob
    from portal.registry.services import import_start
    from tenants.database import throwaway_database
    from tenants.services import platform_site_ensure
    from tests.faults.harness import (
        MotoProcess,
        SmallDisk,
        small_disk_mount,
        small_disk_unmount,
    )

    setup_test_environment(debug=False)
    load_before = loadavg()
    database = throwaway_database(prefix="bench_faults_storage_")
    database.__enter__()
    work = Path(tempfile.mkdtemp(prefix="bench-faults-storage-"))
    report: list[str] = []
    try:
        platform_site_ensure()
        department = bench_department(radius_m=5_000)
        small = b"address\n1 Union St S\n"

        def upload(content: bytes = small) -> Any:
            return import_start(actor=Actor.system("bench"), filename="r.csv", content=content)

        def rows() -> set[str]:
            return set(ImportJob.objects.values_list("stored_name", flat=True))

        # --- S3 stopped, then back --------------------------------------------------------------
        moto = MotoProcess(work)
        moto.start()
        storages = {
            **settings.STORAGES,
            **{k: moto.server.storages[k] for k in ("default", "evidence")},
        }
        with override_settings(STORAGES=storages), tenant_context(department):
            ImportJob.objects.all().delete()
            moto.stop()
            failed = [attempt(upload) for _ in range(arguments.uploads)]
            assert not any(ok for ok, _ in failed)
            report.append(line("S3 stopped", [seconds for _, seconds in failed]))
            report.append(f"  rows written while down: {ImportJob.objects.count()}")
            started = time.monotonic()
            moto.start()  # the process, its port answering, the buckets (moto keeps none)
            listening = time.monotonic()
            back = until_success(upload, listening)
            report.append(
                f"  back: server started (listening, buckets re-created) in "
                f"{listening - started:.2f} s; then the first upload stored after {back:.2f} s"
            )
            keys, named = set(moto.stored_keys()), rows()
            report.append(
                f"  after: {len(named)} rows, {len(keys)} objects; rows without a file "
                f"{len(named - keys)}, files without a row {len(keys - named)}"
            )

            # --- S3 hung (SIGSTOP), shipped timeouts ---------------------------------------------
            ImportJob.objects.all().delete()
            for key in moto.stored_keys():
                moto.server.client().delete_object(Bucket="canvass-evidence", Key=key)
            moto.freeze()
            hung = [attempt(upload) for _ in range(3)]
            moto.thaw()
            assert not any(ok for ok, _ in hung)
            report.append(
                line(
                    f"S3 hung (connect {settings.S3_CONNECT_TIMEOUT} s, read "
                    f"{settings.S3_READ_TIMEOUT} s, {settings.S3_MAX_ATTEMPTS} attempts)",
                    [seconds for _, seconds in hung],
                )
            )
            time.sleep(2)  # whatever the thawed server still had queued
            keys, named = set(moto.stored_keys()), rows()
            report.append(
                f"  after SIGCONT: {len(named)} rows, {len(keys)} objects; rows without a file "
                f"{len(named - keys)}, files without a row {len(keys - named)}"
            )
            back_started = time.monotonic()
            again = until_success(upload, back_started)
            report.append(f"  first upload stored {again:.2f} s after SIGCONT + 2 s")
        moto.stop()

        # --- A full disk ----------------------------------------------------------------------
        root = work / "disk"
        root.mkdir()
        problem = small_disk_mount(root)
        if problem:
            report.append(f"full disk: not measured (cannot mount a tmpfs: {problem})")
        else:
            try:
                disk = SmallDisk(root)
                evidence = {
                    **settings.STORAGES["evidence"],
                    "OPTIONS": {**settings.STORAGES["evidence"]["OPTIONS"], "location": str(root)},
                }
                big = b"address\n" + b"1 Union St S\n" * 23_000  # about 300 KB
                with (
                    override_settings(STORAGES={**settings.STORAGES, "evidence": evidence}),
                    tenant_context(department),
                ):
                    ImportJob.objects.all().delete()
                    disk.fill(leave=64 * 1024)
                    failed = [attempt(lambda: upload(big)) for _ in range(arguments.uploads)]
                    assert not any(ok for ok, _ in failed)
                    report.append(
                        line(
                            "full disk (1 MB tmpfs, 64 KB left, 300 KB uploads)",
                            [s for _, s in failed],
                        )
                    )
                    report.append(
                        f"  rows written {ImportJob.objects.count()}, files left on the disk "
                        f"{len(disk.files())} (no partial file)"
                    )
                    freed = time.monotonic()
                    disk.free()
                    again = until_success(lambda: upload(big), freed)
                    report.append(f"  space freed -> first upload stored {again:.2f} s")
                    named = rows()
                    on_disk = set(disk.files())
                    report.append(
                        f"  after: {len(named)} rows, {len(on_disk)} files; rows without a file "
                        f"{len(named - on_disk)}, files without a row {len(on_disk - named)}"
                    )
            finally:
                small_disk_unmount(root)
    finally:
        database.__exit__(None, None, None)
    print(f"machine: {os.cpu_count()} cores; load before {load_before}")
    for entry in report:
        print(entry)
    print(f"load after {loadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
