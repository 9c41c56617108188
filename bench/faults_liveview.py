"""Live view faults' figures (issue 16, point 6; docs/benchmarks.md): runs
tests/faults/test_liveview_faults.py `--rounds` times with CANVASS_FAULT_FIGURES set, so that the
tests write what they measured (they assert no timings), and prints each figure's median and
range with the load average before and after.

    .venv/bin/python bench/faults_liveview.py --rounds 3

Measured: from the bridge's network returning (the proxy listening again), from the bridge's
process starting again, and from the restarted relay answering, to the 5th frame decoded by a
viewer that opens again every second (what the viewer page does, with 1, 2, then 3 s between
tries); and the streams running after a restart for a grant revoked during the outage."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    figures_file = Path(tempfile.mkdtemp()) / "figures.jsonl"
    print(f"load average before: {loadavg()}")
    for number in range(arguments.rounds):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "tests/faults/test_liveview_faults.py",
                "-q",
                "-p",
                "no:cacheprovider",
            ],
            cwd=ROOT,
            env={**os.environ, "CANVASS_FAULT_FIGURES": str(figures_file)},
            check=False,
        )
        print(f"round {number + 1}: pytest exited {done.returncode}")
    print(f"load average after: {loadavg()}")
    values: dict[str, list[float]] = defaultdict(list)
    for line in figures_file.read_text().splitlines():
        entry = json.loads(line)
        values[entry["name"]].append(float(entry["value"]))
    for name, measured in values.items():
        print(
            f"{name}: median {statistics.median(measured):.2f}, "
            f"min {min(measured):.2f}, max {max(measured):.2f} (n={len(measured)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
