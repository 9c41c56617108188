"""A mail server of the test's own on loopback that takes every message and keeps who it was for,
so a test counts exactly the emails each owner got from processes it cannot look into (a Celery
worker killed by signal). Plain SMTP as Django's smtp backend speaks it (EHLO, MAIL, RCPT, DATA,
RSET, NOOP, QUIT), no TLS, no authentication; `delay` seconds before each message is accepted
stand for a real mail server's round trip and spread a batch out over time."""

from __future__ import annotations

import socketserver
import threading
import time
from collections import Counter
from typing import Self

from tests.faults.harness import free_port


class SmtpSink:
    def __init__(self, *, delay: float = 0.0) -> None:
        self.port = free_port()
        self.delay = delay
        # One entry per message accepted (after its final "."), its recipients.
        self.accepted: list[tuple[str, ...]] = []
        self._lock = threading.Lock()
        sink = self

        class Session(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(f"{line}\r\n".encode())
                self.wfile.flush()

            def handle(self) -> None:
                recipients: list[str] = []
                self.reply("220 sink ready")
                while line := self.rfile.readline():
                    command = line.decode(errors="replace").strip()
                    verb = command[:4].upper()
                    if verb in {"EHLO", "HELO"}:
                        self.reply("250 sink")
                    elif verb == "MAIL":
                        recipients = []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        address = command.split(":", 1)[1].strip().strip("<>").split(">")[0]
                        recipients.append(address.lower())
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 go ahead")
                        while (data := self.rfile.readline()) and data not in {b".\r\n", b".\n"}:
                            pass
                        if not data:
                            return  # the client died mid-message: nothing accepted
                        time.sleep(sink.delay)
                        with sink._lock:
                            sink.accepted.append(tuple(recipients))
                        self.reply("250 accepted")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:  # RSET, NOOP and the rest
                        recipients = [] if verb == "RSET" else recipients
                        self.reply("250 OK")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", self.port), Session)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def per_recipient(self) -> Counter[str]:
        with self._lock:
            return Counter(address for message in self.accepted for address in message)

    def environment(self) -> dict[str, str]:
        """What points a Canvass process's email at this server."""
        return {
            "EMAIL_PROVIDER": "smtp",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_TIMEOUT": "10",
        }
