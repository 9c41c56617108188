"""A Celery worker logs like the web processes: JSON lines through settings.LOGGING, scrubbed,
not Celery's own format (canvass.celery connects setup_logging)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery

from tests.observability.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "observe-worker-logs"


def test_a_worker_writes_json_lines_without_the_emails_of_a_tasks_arguments(redis_db6):
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("PYTEST")},
        "CELERY_BROKER_URL": REDIS_URL,
        "LOG_FORMAT": "json",
        # The worker needs no database to refuse an unknown task.
        "DATABASE_URL": "postgres://canvass@127.0.0.1:1/canvass",
        "DATABASE_OWNER_URL": "",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "canvass", "worker", "--pool", "solo", "-Q", QUEUE],
        cwd=ROOT / "platform",
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    sender = Celery(broker=REDIS_URL)
    try:
        deadline = time.monotonic() + 60
        while not redis_db6.keys("_kombu.binding.*"):
            assert time.monotonic() < deadline, "the worker did not start"
            assert worker.poll() is None, "the worker stopped"
            time.sleep(0.2)
        sender.send_task("no.such.task", args=["alice.moreno@example.org"], queue=QUEUE)
        deadline = time.monotonic() + 30
        while redis_db6.llen(QUEUE) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
    finally:
        sender.close()
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any("ready" in str(line["message"]) for line in lines), output[-2000:]
    refused = [line for line in lines if "no.such.task" in str(line["message"])]
    assert refused, output[-2000:]
    assert refused[0]["level"] == "ERROR"
    assert "[email]" in str(refused[0]["message"])
    assert "alice.moreno" not in output
