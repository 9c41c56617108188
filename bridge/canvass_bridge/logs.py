"""Logging to standard error (journald keeps it) with secrets taken out: a device credential or a
camera's password never reaches a log line, whoever wrote the message."""

from __future__ import annotations

import logging
import re

CREDENTIAL = re.compile(r"cvd_[A-Za-z0-9_-]+")
BEARER = re.compile(r"(Bearer\s+)\S+", re.I)
URL_PASSWORD = re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s]*):[^@/\s]*@", re.I)


def redact(text: str) -> str:
    text = CREDENTIAL.sub("cvd_***", text)
    text = BEARER.sub(r"\1***", text)
    return URL_PASSWORD.sub(r"\1:***@", text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def logging_setup(*, verbose: bool = False) -> None:
    handler = logging.StreamHandler()
    # journald adds its own time stamps; a terminal gets none, which keeps lines short.
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # aiortc and aioice are chatty at INFO about every candidate pair.
    for noisy in ("aiortc", "aioice", "av"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.WARNING)
