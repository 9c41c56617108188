"""Gunicorn settings for production: `gunicorn -c infra/gunicorn.conf.py canvass.wsgi`."""

import multiprocessing
import os
import shutil
import tempfile
from typing import Any

pythonpath = "platform"
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
timeout = 30
# The TLS proxy in front sets X-Forwarded-Proto; trust it only from the proxy's address.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# --- Metrics: every worker counts into files of its own in PROMETHEUS_MULTIPROC_DIR, and
# /metrics (canvass.observability.metrics) adds them up. Set before any worker imports
# prometheus_client; a fresh folder per master, so nothing of a previous run is counted.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="canvass-prometheus-")
_multiproc_dir_ours = os.environ["PROMETHEUS_MULTIPROC_DIR"].startswith(
    os.path.join(tempfile.gettempdir(), "canvass-prometheus-")
)


def on_starting(server: Any) -> None:
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker that ended (restarted, killed): its live gauges no longer count."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _multiproc_dir_ours:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


# --- Logs: gunicorn's own lines like the application's (canvass.observability.logs): JSON in
# production (LOG_FORMAT), with the request id, department and role, scrubbed of emails and IP
# addresses. The access line has no client address and no query string (signed links).
accesslog = "-"
access_log_format = "%(m)s %(U)s %(s)s %(B)s %(M)sms"
_log_format = os.environ.get(
    "LOG_FORMAT", "json" if os.environ.get("DJANGO_ENV") == "production" else "text"
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "canvass.observability.logs.LogContextFilter"}},
    "formatters": {
        "json": {"()": "canvass.observability.logs.JsonFormatter"},
        "text": {"()": "canvass.observability.logs.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": _log_format,
            "stream": "ext://sys.stdout",
        },
    },
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"], "propagate": False},
    },
}
