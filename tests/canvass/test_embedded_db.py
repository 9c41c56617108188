"""The embedded PostgreSQL goes away with the processes that started it, however they end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

STARTER = """
import sys, time
sys.path[:0] = [{root!r}, {platform!r}]
from pathlib import Path
from canvass.embedded_db import embedded_database_urls
embedded_database_urls(Path({data_dir!r}))
print("ready", flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def start(data_dir: Path) -> subprocess.Popen[str]:
    """A process that takes a handle on the embedded server in data_dir, then waits."""
    code = STARTER.format(root=str(ROOT), platform=str(ROOT / "platform"), data_dir=str(data_dir))
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


def terminate(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def assert_stops(postmaster: int) -> None:
    deadline = time.monotonic() + 30
    while alive(postmaster) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(postmaster), "the embedded server outlived the processes that used it"


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    data_dir = tmp_path / "pg"
    yield data_dir
    if data_dir.joinpath("postmaster.pid").exists() and alive(postmaster_pid(data_dir)):
        os.kill(postmaster_pid(data_dir), signal.SIGTERM)


def test_sigterm_stops_the_embedded_server(data_dir):
    process = start(data_dir)
    postmaster = postmaster_pid(data_dir)
    assert alive(postmaster)

    terminate(process)
    assert_stops(postmaster)


def test_a_process_killed_outright_does_not_keep_the_server_running(data_dir):
    # runserver's reloader, when it is stopped, kills its child with SIGKILL, then exits.
    reloader, child = start(data_dir), start(data_dir)
    postmaster = postmaster_pid(data_dir)
    child.kill()
    child.wait(timeout=30)
    assert alive(postmaster)

    terminate(reloader)
    assert_stops(postmaster)


def test_a_torn_handles_file_neither_stops_a_start_nor_keeps_the_server_running(data_dir):
    # A process killed while writing its handle (runserver's reloader SIGKILLs its child while
    # the child may be saving the list on its way out) used to leave this file empty.
    terminate(start(data_dir))
    (data_dir / ".handle_pids.json").write_text("")

    process = start(data_dir)
    postmaster = postmaster_pid(data_dir)
    assert alive(postmaster)
    terminate(process)
    assert_stops(postmaster)
