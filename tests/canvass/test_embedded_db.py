"""The embedded PostgreSQL goes away with the process that started it, however that ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

STARTER = """
import sys, time
sys.path[:0] = [{root!r}, {platform!r}]
from pathlib import Path
from canvass.embedded_db import embedded_database_url
embedded_database_url(Path({data_dir!r}))
print("ready", flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sigterm_stops_the_embedded_server(tmp_path):
    data_dir = tmp_path / "pg"
    code = STARTER.format(root=str(ROOT), platform=str(ROOT / "platform"), data_dir=str(data_dir))
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        postmaster = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        assert alive(postmaster)

        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while alive(postmaster) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not alive(postmaster), "the embedded server outlived the process"
    finally:
        process.kill()
        if data_dir.joinpath("postmaster.pid").exists():
            pid = int(data_dir.joinpath("postmaster.pid").read_text().splitlines()[0])
            if alive(pid):
                os.kill(pid, signal.SIGTERM)
