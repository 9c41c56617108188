"""Log lines that say which request, department and kind of user they belong to, and never
carry a resident's email or IP address.

Every handler of the project's LOGGING runs LogContextFilter (adds `request_id`, `department`,
`role`, `task_id` to each record, scrubs its message); the formatters scrub what they write
once more (tracebacks, extra fields). The web request's context is set by the middleware of
canvass.observability.middleware; a Celery task's by the signal handlers below. Imported by
gunicorn's master too (infra/gunicorn.conf.py): nothing here may need Django's settings at
import time."""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as LibraryJsonFormatter

UNKNOWN = "-"

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "canvass_request_id", default=None
)
department_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "canvass_department", default=None
)
role_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("canvass_role", default=None)
task_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "canvass_task_id", default=None
)

# An incoming X-Request-ID (from the ingress or the load balancer) is kept only when it is
# plainly an identifier: anything else could forge or break a log line.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def request_id_from(header: str | None) -> str:
    if header and REQUEST_ID_PATTERN.match(header):
        return header
    return uuid.uuid4().hex


# --- Scrubbing: emails, IP addresses, signed links' tokens ---------------------------------------
EMAIL = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
# Candidates only: each is kept unless ipaddress reads it as an address (a time such as
# 14:49:05 is not one).
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%[\w.]+)?(?![\w:])")
# The paths of emailed links carry their signed token (tenants.signing, allauth's keys).
SIGNED_PATH = re.compile(
    r"(/(?:answer|verify|accounts/confirm-email|accounts/unlock|accounts/password/reset/key)/)"
    r"[^/\s?#\"'<>]+"
)
SECRET_QUERY = re.compile(r"([?&](?:token|key|signature|code|password)=)[^&\s#\"'<>]+", re.I)


def _address_or_text(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return text
    return "[ip]"


def scrub(text: str) -> str:
    """The text without email addresses, IP addresses, or the secrets of signed links."""
    text = EMAIL.sub("[email]", text)
    text = IPV4.sub(_address_or_text, text)
    if ":" in text:
        text = IPV6.sub(_address_or_text, text)
    text = SIGNED_PATH.sub(r"\1[token]", text)
    return SECRET_QUERY.sub(r"\1[filtered]", text)


def _schema_in_use() -> str | None:
    """The schema this thread's database connection works in (a command, a task): read from
    django-tenants' connection wrapper without opening a connection."""
    from django.conf import settings

    # Never the first to load the settings (gunicorn's master, the media relay): that would
    # start a whole Django configuration, or an embedded database, to write a log line.
    if not settings.configured:
        return None
    try:
        from django.db import connection

        return getattr(connection, "schema_name", None)
    except Exception:  # no database configured
        return None


class LogContextFilter(logging.Filter):
    """Adds the context of the current request or task to each record and scrubs its message
    of emails and IP addresses. Never refuses a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or UNKNOWN
        record.department = department_var.get() or _schema_in_use() or UNKNOWN
        record.role = role_var.get() or UNKNOWN
        record.task_id = task_id_var.get() or UNKNOWN
        try:
            message = record.getMessage()
        except Exception:  # a bad format: logging's own error handling reports it
            return True
        record.msg = scrub(message)
        record.args = None
        return True


class TextFormatter(logging.Formatter):
    """Plain lines for development and the demo, scrubbed like the JSON ones."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(department)s %(role)s %(request_id)s] "
            "%(message)s"
        )

    def format(self, record: logging.LogRecord) -> str:
        _context_defaults(record)
        return scrub(super().format(record))


class JsonFormatter(LibraryJsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id, department, role,
    task_id, and the record's extra fields; every string scrubbed."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s "
            "%(request_id)s %(department)s %(role)s %(task_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # Django's request logger passes the HttpRequest itself, whose text is the full
            # URL with its query; gunicorn passes its request atoms.
            reserved_attrs=[*RESERVED_ATTRS, "request", "server_time"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        from datetime import UTC, datetime

        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        _context_defaults(record)
        return super().format(record)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {key: scrub_all(value) for key, value in log_data.items()}


def scrub_all(value: Any) -> Any:
    """scrub() applied to every string in a structure (a log record's fields, a Sentry event);
    other objects become their scrubbed text."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {key: scrub_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_all(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(str(value))


def _context_defaults(record: logging.LogRecord) -> None:
    """A record that reached a formatter without the filter (a handler configured elsewhere)."""
    for name in ("request_id", "department", "role", "task_id"):
        if not hasattr(record, name):
            setattr(record, name, UNKNOWN)


@contextmanager
def log_context(**values: str | None) -> Iterator[None]:
    """Set some of request_id, department, role, task_id for the block, then restore them."""
    variables = {
        "request_id": request_id_var,
        "department": department_var,
        "role": role_var,
        "task_id": task_id_var,
    }
    tokens = [(variables[name], variables[name].set(value)) for name, value in values.items()]
    try:
        yield
    finally:
        for variable, token in reversed(tokens):
            variable.reset(token)


def log_context_clear() -> None:
    for variable in (request_id_var, department_var, role_var, task_id_var):
        variable.set(None)


# --- Celery: each task's lines carry its id, its department's schema and role "task" ----------
_task_tokens: dict[str, list[tuple[contextvars.ContextVar[str | None], Any]]] = {}


def task_context_enter(task_id: str | None = None, **kwargs: Any) -> None:
    """task_prerun: tenant-schemas-celery's handler (connected first) has set the schema."""
    if not task_id:
        return
    _task_tokens[task_id] = [
        (task_id_var, task_id_var.set(task_id)),
        (request_id_var, request_id_var.set(request_id_var.get() or task_id)),
        (department_var, department_var.set(_schema_in_use())),
        (role_var, role_var.set("task")),
    ]


def task_context_exit(task_id: str | None = None, **kwargs: Any) -> None:
    """task_postrun: back to what was there (an eager task runs inside a web request)."""
    for variable, token in reversed(_task_tokens.pop(task_id or "", [])):
        try:
            variable.reset(token)
        except ValueError:  # set in another context: leave it
            variable.set(None)
