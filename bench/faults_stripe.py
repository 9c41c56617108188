"""Faults: Stripe unavailable or slow (issue 16, point 4), the figures of docs/benchmarks.md.

Runs the fault tests that measure (tests/faults/test_stripe_faults.py's outage catch-up and
tests/faults/test_stripe_faults_webhooks.py's database outage under gunicorn) with
CANVASS_FAULT_FIGURES set, so that each writes what it measured, then prints the figures:

- a refund queued while Stripe is down for 1 min, 5 min, 30 min and 4 h: the attempts made, how
  long after Stripe came back the minute job applied it (the job's clock stepped a minute at a
  time, as beat runs it), refunds made at Stripe and recorded here, idempotency keys used;
- a signed webhook POSTed to gunicorn while its PostgreSQL is stopped: the status, then the
  deliveries after the restart until one is accepted, the seconds from the database accepting
  connections to the event applied, and the effects counted after three deliveries.

    .venv/bin/python bench/faults_stripe.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TESTS = [
    "tests/faults/test_stripe_faults.py::test_after_a_stripe_outage_the_minute_job_applies_the_refund_once",
    "tests/faults/test_stripe_faults_webhooks.py",
]


def main() -> int:
    figures = Path(tempfile.mkdtemp(prefix="canvass-stripe-figures-")) / "figures.jsonl"
    print("load before:", Path("/proc/loadavg").read_text().strip())
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *TESTS, "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=os.environ | {"CANVASS_FAULT_FIGURES": str(figures)},
    )
    print("load after:", Path("/proc/loadavg").read_text().strip())
    if not figures.exists():
        print("no figures written")
        return 1
    for line in figures.read_text().splitlines():
        entry = json.loads(line)
        print(f"{entry['name']}: {json.dumps(entry['value'])}")
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
