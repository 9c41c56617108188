"""Redis down (issue 16): time from Redis back to every queued notice sent, and the emails lost
or duplicated, measured by the real-process test tests/faults/test_redis_down.py (gunicorn, a
Celery worker and beat against a private PostgreSQL and a private Redis, which is killed and
started again). The test writes one line of figures per run to CANVASS_FAULT_FIGURES; this
script runs it RUNS times and prints the figures with the load average before and after.

    .venv/bin/python bench/faults_redis.py            # 3 runs
    .venv/bin/python bench/faults_redis.py --runs 5

"Redis back to all sent" counts from `redis-server` started again to the last owner's copy
recorded as sent: the worker's and beat's reconnection (kombu's growing retry intervals), beat
firing the outbox job (due every second in the test's settings, every minute when deployed, so
add up to a minute in production), the outbox hand-over and the job itself (12 owners).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    load_before = Path("/proc/loadavg").read_text().strip()
    figures: list[dict[str, float]] = []
    for _run in range(arguments.runs):
        with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as out:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "tests/faults/test_redis_down.py",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                ],
                cwd=ROOT,
                env=os.environ | {"CANVASS_FAULT_FIGURES": out.name},
                capture_output=True,
                text=True,
            )
            if done.returncode:
                sys.exit(done.stdout[-5000:] + done.stderr[-2000:])
            figures += [json.loads(line) for line in Path(out.name).read_text().splitlines()]
    load_after = Path("/proc/loadavg").read_text().strip()
    seconds = [figure["seconds_from_redis_back_to_all_sent"] for figure in figures]
    print(f"cores: {os.cpu_count()}  loadavg before: {load_before}  after: {load_after}")
    print(f"runs: {len(figures)}  owners per notice: {figures[0]['owners']}")
    print(
        "Redis back to all sent (s): "
        f"median {statistics.median(seconds):.1f}, min {min(seconds):.1f}, max {max(seconds):.1f}"
    )
    print(f"emails per run: {[figure['emails'] for figure in figures]}")
    print(f"duplicated: {sum(figure['duplicates'] for figure in figures)}")
    print(f"lost: {sum(figure['lost'] for figure in figures)}")
    print(f"notify_area runs per notice: {[figure['notify_area_runs'] for figure in figures]}")


if __name__ == "__main__":
    main()
