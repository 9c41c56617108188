"""The relay run in-process on loopback, its authority a stub of Canvass's /media/auth (an
aiohttp app with a switchable table of devices and grants, per city host), a bridge made with
aiortc publishing PyAV's testsrc over WHIP on "start", and viewers that read over WHEP and count
the frames they decode. Each test runs one scenario under asyncio.run with a time limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from yarl import URL

from relay.authority import HttpAuthority
from relay.hub import Hub
from relay.server import HUB, make_app
from tests.aio import run_isolated

KEY = "relay-test-key"
CONCORD = "concord.example"
CARROLLTON = "carrollton.example"
NO_STUN = RTCConfiguration(iceServers=[])


class StubAuthority:
    """Canvass's /media/auth as the relay sees it: devices by credential, grants by media token,
    each per city host; publishing allowed while a grant names the channel. Every call is kept."""

    def __init__(self) -> None:
        self.devices: dict[tuple[str, str], str] = {}  # (host, credential) -> device id
        self.grants: dict[
            tuple[str, str], tuple[str, str]
        ] = {}  # (host, token) -> (camera, publisher)
        self.calls: list[dict[str, Any]] = []
        self.app = web.Application()
        self.app.router.add_post("/media/auth", self.auth)

    def device(self, host: str, device_id: str, credential: str) -> None:
        self.devices[(host, credential)] = device_id

    def grant(self, host: str, token: str, camera: str, publisher: str) -> None:
        self.grants[(host, token)] = (camera, publisher)

    def revoke(self, host: str, token: str) -> None:
        self.grants.pop((host, token), None)

    def actions(self, action: str, host: str | None = None) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["action"] == action and host in (None, c["host"])]

    async def auth(self, request: web.Request) -> web.Response:
        body = await request.json()
        host = request.host
        self.calls.append({**body, "host": host, "key": request.query.get("key")})
        if request.query.get("key") != KEY or ":" in host:
            return web.json_response({"error": "bad key"}, status=401)
        action, path = body["action"], body["path"]
        if action == "read":
            token = body["token"] or body["password"]
            if not token and body["query"].startswith("token="):
                token = body["query"].removeprefix("token=")
            grant = self.grants.get((host, token))
            if grant is None:
                return web.json_response({"error": "no such grant"}, status=401)
            if path != f"camera/{grant[0]}":
                return web.json_response({"error": "another camera"}, status=403)
            device, channel = grant[1].split("/")[1:]
            return web.json_response(
                {
                    "grant": 1,
                    "publisher": grant[1],
                    "device": device,
                    "channel": channel,
                    "expires_at": "2026-11-26T13:00:00Z",
                }
            )
        device = self.devices.get((host, body["password"]))
        if device is None:
            return web.json_response({"error": "unknown device"}, status=401)
        if action == "control":
            return web.json_response({"device": device})
        if action == "publish":
            if not path.startswith(f"device/{device}/"):
                return web.json_response({"error": "another device"}, status=403)
            if any(h == host and g[1] == path for (h, _t), g in self.grants.items()):
                return web.json_response({"grant": 1})
            return web.json_response({"error": "no open grant"}, status=403)
        return web.json_response({"error": "unknown action"}, status=400)


@dataclass
class World:
    stub: StubAuthority
    relay: TestServer
    http: aiohttp.ClientSession
    tasks: list[Any] = field(default_factory=list)

    @property
    def hub(self) -> Hub:
        return self.relay.app[HUB]

    def url(self, path: str) -> URL:
        return self.relay.make_url(path)

    def headers(self, host: str, **extra: str) -> dict[str, str]:
        return {"Host": f"{host}:{self.relay.port}", **extra}

    async def post_sdp(
        self, host: str, path: str, sdp: str, bearer: str = "", **headers: str
    ) -> aiohttp.ClientResponse:
        extra = {"Content-Type": "application/sdp", **headers}
        if bearer:
            extra["Authorization"] = f"Bearer {bearer}"
        return await self.http.post(self.url(path), data=sdp, headers=self.headers(host, **extra))

    async def bridge(self, host: str, device_id: str, credential: str, **options: Any) -> Bridge:
        bridge = Bridge(self, host, device_id, credential, **options)
        await bridge.connect()
        self.tasks.append(bridge)
        return bridge

    async def viewer(self, host: str, camera: str, token: str) -> Viewer:
        viewer = Viewer(self, host, camera, token)
        self.tasks.append(viewer)
        await viewer.open()
        return viewer


async def offer(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers every candidate here
    return pc.localDescription.sdp


class Bridge:
    """The owner's bridge, as far as the relay can tell: a control socket, and a WHIP publisher
    of a synthetic test pattern for each channel the relay asks to start."""

    def __init__(
        self,
        world: World,
        host: str,
        device_id: str,
        credential: str,
        *,
        publishes: bool = True,
        size: str = "640x360",
    ) -> None:
        self.world, self.host, self.device_id, self.credential = world, host, device_id, credential
        self.publishes, self.size = publishes, size
        self.messages: list[dict[str, Any]] = []
        self.publish_statuses: list[int] = []
        self.publishing: dict[str, tuple[RTCPeerConnection, MediaPlayer, str]] = {}
        self.socket: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        self.socket = await self.world.http.ws_connect(
            self.world.url("/bridge/control"),
            headers={**self.world.headers(self.host), "Authorization": f"Bearer {self.credential}"},
        )
        await self.socket.send_json({"type": "hello", "version": "test", "channels": ["ch1"]})
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        assert self.socket is not None
        async for message in self.socket:
            data = json.loads(message.data)
            self.messages.append(data)
            if data["type"] == "start" and self.publishes:
                await self.publish(data["channel"])
            elif data["type"] == "stop":
                await self.unpublish(data["channel"])

    async def publish(self, channel: str) -> int:
        player = MediaPlayer(f"testsrc=size={self.size}:rate=15", format="lavfi")
        pc = RTCPeerConnection(NO_STUN)
        pc.addTrack(player.video)
        response = await self.world.post_sdp(
            self.host,
            f"/whip/device/{self.device_id}/{channel}",
            await offer(pc),
            bearer=self.credential,
        )
        self.publish_statuses.append(response.status)
        if response.status != 201:
            await pc.close()
            player.video.stop()
            return response.status
        await pc.setRemoteDescription(RTCSessionDescription(await response.text(), "answer"))
        self.publishing[channel] = (pc, player, response.headers["Location"])
        return response.status

    async def unpublish(self, channel: str) -> None:
        if channel in self.publishing:
            pc, player, location = self.publishing.pop(channel)
            await self.world.http.delete(
                self.world.url(location), headers=self.world.headers(self.host)
            )
            await pc.close()
            player.video.stop()

    async def close(self) -> None:
        for channel in list(self.publishing):
            pc, player, _location = self.publishing.pop(channel)
            await pc.close()
            player.video.stop()
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.reader

    def sent(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]


class Viewer:
    """A browser's WHEP player: offers to receive video, counts the frames it decodes."""

    def __init__(self, world: World, host: str, camera: str, token: str) -> None:
        self.world, self.host, self.camera, self.token = world, host, camera, token
        self.pc = RTCPeerConnection(NO_STUN)
        self.frames = 0
        self.widths: set[int] = set()
        self.last_frame_at = 0.0
        self.status = 0
        self.answer: dict[str, Any] | str = ""
        self.location = ""
        self.counter: asyncio.Task[None] | None = None

        @self.pc.on("track")
        def on_track(track: Any) -> None:
            self.counter = asyncio.create_task(self.count(track))

    async def open(self) -> None:
        self.pc.addTransceiver("video", direction="recvonly")
        response = await self.world.post_sdp(
            self.host, f"/whep/camera/{self.camera}", await offer(self.pc), bearer=self.token
        )
        self.status = response.status
        if response.status == 201:
            self.location = response.headers["Location"]
            await self.pc.setRemoteDescription(
                RTCSessionDescription(await response.text(), "answer")
            )
        else:
            self.answer = await response.json()

    async def count(self, track: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                frame = await track.recv()
                self.frames += 1
                self.widths.add(frame.width)
                self.last_frame_at = time.monotonic()

    async def wait_frames(self, count: int, timeout: float = 6.0) -> None:
        deadline = time.monotonic() + timeout
        while self.frames < count:
            assert time.monotonic() < deadline, f"{self.frames} frames after {timeout} s"
            await asyncio.sleep(0.05)

    async def leave(self) -> int:
        response = await self.world.http.delete(
            self.world.url(self.location), headers=self.world.headers(self.host)
        )
        await self.close()
        return response.status

    async def close(self) -> None:
        await self.pc.close()
        if self.counter is not None:
            self.counter.cancel()


@contextlib.asynccontextmanager
async def world_running(**options: Any) -> AsyncIterator[World]:
    stub = StubAuthority()
    authority_server = TestServer(stub.app, host="127.0.0.1")
    await authority_server.start_server()
    authority = HttpAuthority(str(authority_server.make_url("")), KEY, timeout=1.0)
    relay = TestServer(make_app(authority, **options), host="127.0.0.1")
    await relay.start_server()
    http = aiohttp.ClientSession()
    world = World(stub, relay, http)
    try:
        yield world
    finally:
        for client in world.tasks:
            with contextlib.suppress(Exception):
                await client.close()
        await http.close()
        await relay.close()
        await authority_server.close()


Scenario = Callable[[World], Awaitable[None]]


@pytest.fixture
def run_relay() -> Callable[..., None]:
    """run_relay(scenario, **make_app options): the scenario against a fresh relay, at most 20 s."""

    def run(scenario: Scenario, **options: Any) -> None:
        async def main() -> None:
            async with world_running(**options) as world:
                await scenario(world)

        run_isolated(lambda: asyncio.wait_for(main(), 20))

    return run
