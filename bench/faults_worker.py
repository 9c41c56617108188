"""Figures for "a worker killed" (issue 16, point 3): runs tests/faults/test_worker_killed.py
(real Celery workers and a real provisioning process, killed by SIGKILL at a moment read from
the database) `--runs` times and prints, for each job, the seconds from the restart to its end
state and the duplicated or left-over effects counted, with the load average before and after.

    .venv/bin/python bench/faults_worker.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    arguments = parser.parse_args()
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    figures: dict[str, list[dict]] = defaultdict(list)
    for _run in range(arguments.runs):
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as output:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "tests/faults/test_worker_killed.py",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                ],
                cwd=ROOT,
                env=os.environ | {"WORKER_KILLED_FIGURES": output.name},
                check=True,
            )
            for line in output.read().splitlines():
                entry = json.loads(line)
                figures[entry.pop("job")].append(entry)
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print(
        f"cores: {os.cpu_count()}, load average before {' '.join(load_before)}, "
        f"after {' '.join(load_after)}, runs: {arguments.runs}"
    )
    for job, entries in figures.items():
        print(f"\n{job}:")
        for key in entries[0]:
            values = [entry[key] for entry in entries]
            print(f"  {key}: {', '.join(str(value) for value in values)}")


if __name__ == "__main__":
    main()
