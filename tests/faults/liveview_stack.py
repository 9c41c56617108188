"""The live view's media path as deployed, on loopback, for tests/faults/test_liveview_faults.py
and bench/faults_liveview.py (issue 16, point 6): Canvass under gunicorn on a private copy of
the test database (its /media/auth the relay's authority), the media relay process
(`python -m relay`), the Canvass bridge process (`python -m canvass_bridge run`, its camera an
FFmpeg test pattern) reaching the relay through a TCP proxy the test can cut, and viewers that
read over WHEP with aiortc and count the frames they decode.

Nothing here is a mock: the faults are a proxy dropping every connection and refusing new ones
(the bridge's network cut), SIGKILL of the bridge process, and SIGKILL of the relay process
followed by a new one on the same port (the media component restarted)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from tests.faults.harness import (
    ROOT,
    CanvassProcess,
    PrivatePostgres,
    canvass_environment,
    free_port,
    port_open,
    wait_until,
)

CITY = "littlerock"
HOST = f"{CITY}.localhost"
EMAIL_DOMAIN = "faults-liveview.example.org"
PATTERN = "lavfi:testsrc=size=320x240:rate=15"
PYTHONPATH = os.pathsep.join([str(ROOT / "platform"), str(ROOT / "bridge")])
NO_STUN = RTCConfiguration(iceServers=[])


class Loop:
    """An asyncio loop in a thread of its own: the proxy and the viewers live there, so that the
    test's own code stays plain and blocking (it sleeps, kills processes, queries)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        async def cancel_all() -> None:
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.call(cancel_all(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


class Proxy:
    """A TCP proxy from `port` to the relay: the bridge's only way to the relay. `cut()` resets
    every connection through it and stops listening (the bridge's connections fail and new
    ones are refused, as when its network goes); `restore()` listens again on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.connections = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(
            self._handle, "127.0.0.1", self.port, reuse_address=True
        )

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self.writers |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            with contextlib.suppress(OSError):
                sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        self.writers -= {writer, upstream_writer}

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()  # a reset, not a polite close
        self.writers.clear()

    async def restore(self) -> None:
        await self.start()


@dataclass
class Viewer:
    """One WHEP read, as a browser's viewer makes it: its answer's status, then the frames it
    decodes; `ended` once the relay closed it or its track ended."""

    status: int = 0
    error: str = ""
    frames: int = 0
    last_frame_at: float = 0.0
    ended: bool = False
    pc: RTCPeerConnection | None = None
    counter: asyncio.Task[None] | None = None

    async def open(self, relay_port: int, camera_id: int, token: str) -> None:
        pc = self.pc = RTCPeerConnection(NO_STUN)  # made in the loop that runs it

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self.counter = asyncio.ensure_future(self._count(track))

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                self.ended = True

        pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"http://127.0.0.1:{relay_port}/whep/camera/{camera_id}",
                    data=pc.localDescription.sdp,
                    headers={
                        "Host": f"{HOST}:{relay_port}",
                        "Content-Type": "application/sdp",
                        "Authorization": f"Bearer {token}",
                    },
                    timeout=aiohttp.ClientTimeout(total=15),
                ) as response,
            ):
                self.status = response.status
                body = await response.text()
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            self.status, self.error = 0, type(error).__name__
            await self.close()
            return
        if self.status != 201:
            self.error = body
            await self.close()
            return
        await pc.setRemoteDescription(RTCSessionDescription(body, "answer"))

    async def _count(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                self.frames += 1
                self.last_frame_at = time.monotonic()
        except MediaStreamError:
            self.ended = True

    def stalled(self, quiet: float = 3.0) -> bool:
        """No frame for `quiet` seconds (what the page's script calls an interruption)."""
        return self.ended or time.monotonic() - self.last_frame_at > quiet

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        if self.counter is not None:
            self.counter.cancel()


@dataclass
class Grant:
    id: int
    camera_id: int
    token: str
    device_id: int
    credential: str


class Stack:
    """Canvass (gunicorn), the relay, the proxy and the bridge, each a real process but the
    proxy; the test's viewers in `loop`."""

    def __init__(self, database: PrivatePostgres, grant: Grant, directory: Path) -> None:
        self.database = database
        self.grant = grant
        self.directory = directory
        self.loop = Loop()
        self.relay_port = free_port()
        self.proxy = Proxy(self.relay_port)
        self.web: CanvassProcess | None = None
        self.relay: subprocess.Popen[bytes] | None = None
        self.bridge: subprocess.Popen[bytes] | None = None
        self.viewers: list[Viewer] = []
        self.bridge_starts = 0

    # --- Canvass ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def canvass(self) -> Iterator[CanvassProcess]:
        from django.conf import settings

        environment = canvass_environment(
            self.database,
            MEDIA_RELAY_URL=f"http://{{host}}:{self.proxy.port}",
            MEDIA_AUTH_KEY=settings.MEDIA_AUTH_KEY,
            SECRET_KEY=settings.SECRET_KEY,
        )
        with CanvassProcess.gunicorn(environment, self.directory / "web.log") as web:
            self.web = web
            yield web

    # --- the relay ----------------------------------------------------------------------------
    def relay_start(self) -> float:
        """Start the relay on its port; the seconds until it answers."""
        from django.conf import settings

        assert self.web is not None and self.web.port is not None
        started = time.monotonic()
        self.relay = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "relay",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.relay_port),
                "--canvass-url",
                f"http://127.0.0.1:{self.web.port}",
            ],
            cwd=ROOT,
            env={**os.environ, "MEDIA_AUTH_KEY": settings.MEDIA_AUTH_KEY, "PYTHONPATH": PYTHONPATH},
            stdout=(self.directory / "relay.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: self.relay_stats() is not None, timeout=30, what="relay up")
        return time.monotonic() - started

    def relay_kill(self) -> None:
        """SIGKILL: the relay's process gone at once, with every connection it held."""
        assert self.relay is not None
        os.killpg(self.relay.pid, signal.SIGKILL)
        self.relay.wait(10)
        wait_until(lambda: not port_open(self.relay_port), timeout=10, what="relay gone")

    def relay_stats(self) -> dict[str, int] | None:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.relay_port}/healthz", timeout=1
            ) as answer:
                return dict(json.loads(answer.read()))
        except OSError:
            return None

    def relay_log(self) -> str:
        return (self.directory / "relay.log").read_text(errors="replace")

    # --- the bridge ---------------------------------------------------------------------------
    def bridge_start(self, *, wait: bool = True) -> None:
        from canvass_bridge.state import DeviceRecord, DeviceState

        assert self.web is not None and self.web.port is not None
        portal = f"http://{HOST}:{self.web.port}"
        folder = self.directory / "bridge"
        state = DeviceState(folder / "state")
        state.credential_store(self.grant.credential)
        state.device_store(
            DeviceRecord(self.grant.device_id, portal, f"http://{HOST}:{self.proxy.port}", 30)
        )
        config = folder / "config.toml"
        config.write_text(
            f'portal_url = "{portal}"\nstate_dir = "{folder / "state"}"\n'
            'connect_host = "127.0.0.1"\n\n'
            f'[[channels]]\nkey = "ch1"\nname = "Porch"\nsource = "{PATTERN}"\n'
        )
        self.bridge = subprocess.Popen(
            [sys.executable, "-m", "canvass_bridge", "--config", str(config), "run"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": PYTHONPATH},
            stdout=(self.directory / "bridge.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            self.bridge_connected()

    def bridge_connected(self, timeout: float = 60) -> float:
        return wait_until(
            lambda: (self.relay_stats() or {}).get("controls", 0) >= 1,
            timeout=timeout,
            what="the bridge connected to the relay",
        )

    def bridge_kill(self) -> None:
        assert self.bridge is not None
        os.killpg(self.bridge.pid, signal.SIGKILL)
        self.bridge.wait(10)

    def bridge_log(self) -> str:
        return (self.directory / "bridge.log").read_text(errors="replace")

    # --- viewers ------------------------------------------------------------------------------
    def view(self) -> Viewer:
        """One WHEP read with the grant's media token (its status tells how it went)."""
        viewer = Viewer()
        self.viewers.append(viewer)
        self.loop.call(viewer.open(self.relay_port, self.grant.camera_id, self.grant.token))
        return viewer

    def watching(self, viewer: Viewer, frames: int = 10, timeout: float = 20) -> None:
        base = viewer.frames
        wait_until(lambda: viewer.frames >= base + frames, timeout=timeout, what=f"{frames} frames")

    def reopen_until_frames(self, timeout: float = 60, every: float = 1.0) -> tuple[Viewer, float]:
        """What the viewer's page does once the picture is interrupted: open again every
        second until frames flow; the viewer and the seconds it took (to its 5th frame)."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            viewer = self.view()
            if viewer.status == 201:
                with contextlib.suppress(AssertionError):
                    wait_until(lambda v=viewer: v.frames >= 5, timeout=10, what="frames", step=0.02)
                    return viewer, time.monotonic() - started
            self.loop.call(viewer.close())
            time.sleep(every)
        raise AssertionError(f"no frames within {timeout} s; relay log:\n{self.relay_log()}")

    def close_viewers(self) -> None:
        for viewer in self.viewers:
            with contextlib.suppress(Exception):
                self.loop.call(viewer.close(), timeout=5)

    # --- the grant, in the private database ---------------------------------------------------
    def grant_revoke(self) -> None:
        """The viewer closed the grant (ended now), written where Canvass reads it."""
        self.database.query(
            f"UPDATE {CITY}.liveview_grant SET ended_at = now(), ended_why = 'closed' "
            "WHERE id = %s",
            [self.grant.id],
        )

    def grant_expire_in(self, seconds: float) -> None:
        self.database.query(
            f"UPDATE {CITY}.liveview_grant SET expires_at = now() + %s WHERE id = %s",
            [timedelta(seconds=seconds), self.grant.id],
        )

    def whip_status(self) -> int:
        """The bridge's own credential publishing straight to the relay (no viewer asked)."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.relay_port}/whip/device/{self.grant.device_id}/ch1",
            data=b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
            b"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 VP8/90000\r\n"
            b"a=sendonly\r\na=mid:0\r\n",
            method="POST",
            headers={
                "Host": f"{HOST}:{self.relay_port}",
                "Content-Type": "application/sdp",
                "Authorization": f"Bearer {self.grant.credential}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)

    # --- the end ------------------------------------------------------------------------------
    def stop(self) -> None:
        self.close_viewers()
        for process in (self.bridge, self.relay):
            if process is not None and process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        with contextlib.suppress(Exception):
            self.loop.call(self.proxy.cut(), timeout=5)
        self.loop.close()


def figure(name: str, value: float) -> None:
    """A measurement for bench/faults_liveview.py (one JSON line in $CANVASS_FAULT_FIGURES);
    nothing when the tests run as tests: they assert no timings."""
    path = os.environ.get("CANVASS_FAULT_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as figures:
            figures.write(json.dumps({"name": name, "value": round(value, 3)}) + "\n")


def grant_committed() -> Grant:
    """In the session's test database, committed (copied next into the private server): Little
    Rock's shared camera on an online device, and an open grant to watch it opened from
    127.0.0.1 (where the test's viewers are), with its media token."""
    from django_tenants.utils import schema_context

    from portal.liveview.media import media_token
    from portal.liveview.services import grant_open
    from portal.registry.audit import Actor
    from tests.liveview.grant_fixtures import live_camera, staff_member

    with schema_context(CITY):
        live = live_camera(email=f"owner@{EMAIL_DOMAIN}", latitude=34.7465, longitude=-92.2896)
        staff = staff_member("operator", email=f"operator@{EMAIL_DOMAIN}")
        grant = grant_open(
            actor=Actor.of_staff(staff, "127.0.0.1"),
            camera=live.camera,
            reason="crime_in_progress",
            case_number="LRPD-FAULT-1",
        )
        return Grant(grant.pk, live.camera.pk, media_token(grant), live.device.pk, live.credential)


def committed_rows_delete() -> None:
    """What grant_committed() left in the session's test database (the copy keeps its own)."""
    from django.contrib.auth import get_user_model
    from django_tenants.utils import schema_context

    from portal.liveview.models import Grant as GrantRow

    with schema_context(CITY):
        GrantRow.objects.filter(staff__user__email__endswith=f"@{EMAIL_DOMAIN}").delete()
        get_user_model().objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").delete()
