"""Stand-ins for the two things the bridge talks to, run in-process on loopback in a thread of
their own (so the bridge under test, even as a subprocess, talks to them over real HTTP):
the portal's device API, and the media relay (control WebSocket + a WHIP endpoint that answers
with aiortc and counts the frames it receives)."""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from canvass_bridge.bridge import Backoff, Bridge
from canvass_bridge.config import Config, load_config
from canvass_bridge.state import DeviceRecord, DeviceState
from tests.aio import run_isolated

ROOT = Path(__file__).resolve().parents[2]
DEVICE_ID = 7
CLAIM_CODE = "K7Q2-M9XD"
TEST_PATTERN = "lavfi:testsrc=size=320x240:rate=15"


def credential_new(number: int) -> str:
    return f"cvd_{'A' * 15}{number}_{'s3cr3t' * 7}{number}"


# The portal's device API --------------------------------------------------------------------------
@dataclass
class StubPortal:
    credential: str = credential_new(1)
    relay_url: str = ""
    heartbeat_seconds: int = 30
    revoked: bool = False
    owner_paused: bool = False
    rotate_next: bool = False
    claims: list[dict[str, Any]] = field(default_factory=list)
    heartbeats: list[dict[str, Any]] = field(default_factory=list)
    heartbeat_times: list[float] = field(default_factory=list)
    rotations: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/device/v1/claim", self.claim)
        app.router.add_post("/api/device/v1/heartbeat", self.heartbeat)
        app.router.add_post("/api/device/v1/credential", self.rotate)
        return app

    def authorised(self, request: web.Request) -> bool:
        return not self.revoked and request.headers.get("Authorization") == (
            f"Bearer {self.credential}"
        )

    async def claim(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.claims.append(body)
        if body.get("code") != CLAIM_CODE:
            return web.json_response({"error": "This claim code is not valid."}, status=404)
        return web.json_response(
            {
                "device_id": DEVICE_ID,
                "credential": self.credential,
                "heartbeat_seconds": self.heartbeat_seconds,
                "relay_url": self.relay_url,
            },
            status=201,
        )

    async def heartbeat(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return web.json_response({"error": "This device credential is revoked."}, status=401)
        self.heartbeats.append(await request.json())
        self.heartbeat_times.append(time.monotonic())
        answer: dict[str, Any] = {
            "heartbeat_seconds": self.heartbeat_seconds,
            "relay_url": self.relay_url,
            "paused": self.heartbeats[-1]["paused"] or self.owner_paused,
        }
        if self.rotate_next:
            self.rotate_next = False
            answer["rotate_credential"] = True
        return web.json_response(answer)

    async def rotate(self, request: web.Request) -> web.Response:
        if not self.authorised(request):
            return web.json_response({"error": "This device credential is revoked."}, status=401)
        self.rotations += 1
        self.credential = credential_new(self.rotations + 1)
        return web.json_response({"credential": self.credential})


# The media relay ------------------------------------------------------------------------------
@dataclass
class Publisher:
    """One WHIP resource the stub relay answered: its connection and the frames it received."""

    number: int
    path: str
    connection: RTCPeerConnection
    frames: int = 0
    last_frame_at: float = 0.0
    deleted: bool = False


@dataclass
class StubRelay:
    portal: StubPortal
    publishing_allowed: bool = True
    hellos: list[dict[str, Any]] = field(default_factory=list)
    control_connections: int = 0
    sockets: list[web.WebSocketResponse] = field(default_factory=list)
    publishers: dict[int, Publisher] = field(default_factory=dict)
    whip_posts: list[str] = field(default_factory=list)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/bridge/control", self.control)
        app.router.add_post("/whip/device/{device}/{channel}", self.whip)
        app.router.add_delete("/whip/resource/{number}", self.whip_delete)
        return app

    async def control(self, request: web.Request) -> web.StreamResponse:
        if not self.portal.authorised(request):
            return web.json_response({"error": "credential refused"}, status=401)
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self.control_connections += 1
        self.sockets.append(socket)
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self.hellos.append(json.loads(message.data))
        return socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.sockets[-1].send_json(message)

    async def drop_control(self) -> None:
        for socket in self.sockets:
            await socket.close()

    async def whip(self, request: web.Request) -> web.Response:
        path = f"device/{request.match_info['device']}/{request.match_info['channel']}"
        self.whip_posts.append(path)
        if not self.portal.authorised(request):
            return web.json_response({"error": "credential refused"}, status=401)
        if not self.publishing_allowed:
            return web.json_response({"error": "no open grant for this camera"}, status=403)
        if request.content_type != "application/sdp":
            return web.json_response({"error": "an SDP offer is expected"}, status=415)
        connection = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        publisher = Publisher(number=next(self._numbers), path=path, connection=connection)
        self.publishers[publisher.number] = publisher

        @connection.on("track")
        def track_arrived(track: MediaStreamTrack) -> None:
            task = asyncio.ensure_future(self.count_frames(publisher, track))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        await connection.setRemoteDescription(
            RTCSessionDescription(sdp=await request.text(), type="offer")
        )
        await connection.setLocalDescription(await connection.createAnswer())
        return web.Response(
            status=201,
            text=connection.localDescription.sdp,
            content_type="application/sdp",
            headers={"Location": f"/whip/resource/{publisher.number}"},
        )

    async def count_frames(self, publisher: Publisher, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                publisher.frames += 1
                publisher.last_frame_at = time.monotonic()
        except MediaStreamError:
            pass

    async def whip_delete(self, request: web.Request) -> web.Response:
        publisher = self.publishers.get(int(request.match_info["number"]))
        if publisher is None or not self.portal.authorised(request):
            return web.json_response({"error": "unknown resource"}, status=404)
        publisher.deleted = True
        await publisher.connection.close()
        return web.Response(status=200)

    async def close_publisher(self, number: int) -> None:
        """What the real relay does when a grant ends: closes the publisher's connection."""
        await self.publishers[number].connection.close()

    async def shutdown(self) -> None:
        for socket in self.sockets:
            await socket.close()
        for publisher in self.publishers.values():
            await publisher.connection.close()


class Stubs:
    """The portal and the relay, served from a thread with its own event loop."""

    def __init__(self) -> None:
        self.portal = StubPortal()
        self.relay = StubRelay(self.portal)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runners: list[web.AppRunner] = []
        self.portal_url = ""
        self.relay_url = ""

    def start(self) -> None:
        self.thread.start()
        self.portal_url = self.call(self._serve(self.portal.app()))
        self.relay_url = self.call(self._serve(self.relay.app()))
        self.portal.relay_url = self.relay_url

    async def _serve(self, app: web.Application) -> str:
        runner = web.AppRunner(app, shutdown_timeout=1)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    def call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        """Runs a coroutine on the stubs' loop and waits for it (from plain test code)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def acall(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """The same from inside the test's own event loop, without blocking it."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self.loop))

    def stop(self) -> None:
        async def cleanup() -> None:
            await self.relay.shutdown()
            for runner in self.runners:
                await runner.cleanup()
            # Whatever aiortc still runs (frame counters, ICE checks) ends here, not in a
            # finalizer later on (Python 3.11's parser trips over finalizers run mid-parse).
            others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in others:
                task.cancel()
            await asyncio.gather(*others, return_exceptions=True)

        self.call(cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
        gc.collect()


@pytest.fixture
def stubs() -> Iterator[Stubs]:
    servers = Stubs()
    servers.start()
    yield servers
    servers.stop()


@pytest.fixture
def config_file(tmp_path: Path, stubs: Stubs) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
portal_url = "{stubs.portal_url}"
state_dir = "{tmp_path / "state"}"

[[channels]]
key = "front"
name = "Front door"
source = "{TEST_PATTERN}"

[[channels]]
key = "yard"
name = "Back yard"
source = "{TEST_PATTERN}"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def config(config_file: Path) -> Config:
    return load_config(config_file)


@pytest.fixture
def state(config: Config, stubs: Stubs) -> DeviceState:
    """A device already claimed (as `canvass-bridge claim` leaves it)."""
    device_state = DeviceState(config.state_dir)
    device_state.credential_store(stubs.portal.credential)
    device_state.device_store(
        DeviceRecord(
            device_id=DEVICE_ID,
            portal_url=config.portal_url,
            relay_url=stubs.relay_url,
            heartbeat_seconds=stubs.portal.heartbeat_seconds,
        )
    )
    return device_state


def cli(
    *arguments: str, config_file: Path, timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    """The real command line, as an installer types it."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "bridge")}
    return subprocess.run(
        [sys.executable, "-m", "canvass_bridge", "--config", str(config_file), *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )


def run(scenario: Callable[[], Awaitable[None]], timeout: float = 20) -> None:
    """Runs one test's scenario in a fresh event loop."""

    async def bounded() -> None:
        await asyncio.wait_for(scenario(), timeout)

    run_isolated(bounded)


async def eventually(check: Callable[[], bool], *, within: float, every: float = 0.05) -> float:
    """Waits until check() holds; returns how long it took, fails after `within` seconds."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > within:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(every)
    return time.monotonic() - started


class RunningBridge:
    """A Bridge running in the test's loop, stopped (and awaited) at the end."""

    def __init__(self, config: Config, state: DeviceState) -> None:
        self.bridge = Bridge(
            config, state, pause_poll_seconds=0.1, backoff=Backoff(first=0.1, most=0.5)
        )
        self.task: asyncio.Task[int] | None = None

    async def __aenter__(self) -> Bridge:
        self.task = asyncio.create_task(self.bridge.run())
        return self.bridge

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.task is not None
        self.bridge.stop()
        await asyncio.wait_for(self.task, 10)

    async def exit_code(self) -> int:
        assert self.task is not None
        return await asyncio.wait_for(self.task, 10)
