"""Database restart (issue 16): time for the web to answer 200 again once PostgreSQL is back,
the answers during the outage (all 503 with the outage page, target: no other status), rows
lost, and for an area notice cut off mid-way, the emails duplicated or lost. Measured by the
real-process tests tests/faults/test_database_restart.py (gunicorn with 2 workers and a Celery
worker against a private PostgreSQL server that is stopped and started, a private Redis, a
slow mail server of the test's own); they write one line of figures per test to
CANVASS_FAULT_FIGURES. This script runs them RUNS times and prints the figures with the load
average before and after.

    .venv/bin/python bench/faults_database.py            # 3 runs
    .venv/bin/python bench/faults_database.py --runs 5

"Database back to 200" counts from `pg_ctl start` returning (the server accepts connections) to
the first 200 of a city's home page, polled every 20 ms. "Database back to all sent" counts
from the same moment to the last copy of the notice recorded as sent: it includes the retry's
backoff (2, 4, 8... s while the server was down: the notice's retries wait for their
countdown), so it says when the job finished, not when it could have.
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


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f}, min {min(values):.2f}, max {max(values):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    load_before = Path("/proc/loadavg").read_text().strip()
    figures: list[dict[str, float]] = []
    for _run in range(arguments.runs):
        with (
            tempfile.NamedTemporaryFile("r", suffix=".jsonl") as out,
            tempfile.TemporaryDirectory() as basetemp,
        ):
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "tests/faults/test_database_restart.py",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    f"--basetemp={basetemp}/pytest",
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
    web = [figure for figure in figures if figure["test"] == "web"]
    job = [figure for figure in figures if figure["test"] == "job"]
    print(f"cores: {os.cpu_count()}  loadavg before: {load_before}  after: {load_after}")
    print(f"runs: {len(web)}")
    print(
        "web: database back to 200 (s): "
        + summary([figure["seconds_from_database_back_to_200"] for figure in web])
    )
    print(f"web: answers 503 during the outage per run: {[f['answers_503'] for f in web]}")
    print(f"web: other answers (not 200/503): {sum(f['answers_other'] for f in web)}")
    print(f"rows lost: {sum(f['rows_lost'] for f in web)}")
    print(
        f"job: owners per notice: {job[0]['owners']}  emails per run: {[f['emails'] for f in job]}"
    )
    print(
        f"job: duplicated: {sum(f['duplicates'] for f in job)}  lost: {sum(f['lost'] for f in job)}"
    )
    print(
        "job: database back to all sent (s): "
        + summary([figure["seconds_from_database_back_to_all_sent"] for figure in job])
    )
    print(f"job: notify_area runs per notice: {[f['notify_area_runs'] for f in job]}")


if __name__ == "__main__":
    main()
