"""What the relay holds, keyed by (hostname, path) since ids repeat from city to city: each
bridge's control socket, each channel's publisher (one decoded track shared through aiortc's
MediaRelay, one encoder per viewer) and its viewers; and the watchdog that asks Canvass again
about every publisher and viewer each second and closes the first one refused."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaRelay
from aiortc.sdp import SessionDescription

from relay.authority import Authority, Decision

logger = logging.getLogger(__name__)

# Ids and channel keys as Canvass issues them: no slashes, nothing a path could hide.
SEGMENT = r"[A-Za-z0-9_.~-]{1,64}"
PUBLISHER_PATH = re.compile(rf"device/({SEGMENT})/({SEGMENT})")
CAMERA_PATH = re.compile(rf"camera/({SEGMENT})")
MAX_SDP_BYTES = 64 * 1024

Key = tuple[str, str]  # (hostname, path)
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Refusal(Exception):
    """A request the relay answers with an HTTP error and a JSON reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(eq=False)
class Control:
    """A bridge's control socket: the relay tells it which channel to start and stop."""

    host: str
    device_id: str
    credential: str
    ip: str
    send: Send
    close: Callable[[], Awaitable[Any]]
    channels: list[str] = field(default_factory=list)
    version: str = ""

    @property
    def key(self) -> Key:
        return (self.host, f"device/{self.device_id}")


@dataclass(eq=False)
class Publisher:
    id: str
    host: str
    path: str
    credential: str
    ip: str
    pc: RTCPeerConnection
    relay: MediaRelay = field(default_factory=MediaRelay)
    track: MediaStreamTrack | None = None


@dataclass(eq=False)
class Viewer:
    id: str
    host: str
    path: str
    publisher_path: str
    token: str
    query: str
    ip: str
    pc: RTCPeerConnection
    opened: float = field(default_factory=time.monotonic)


@dataclass(eq=False)
class Channel:
    """One camera channel of one device in one city: its publisher, who watches and who waits."""

    host: str
    publisher_path: str
    publisher: Publisher | None = None
    viewers: set[str] = field(default_factory=set)
    waiting: int = 0
    started: bool = False  # "start" sent and no publisher yet
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    linger: asyncio.TimerHandle | None = None

    @property
    def device_id(self) -> str:
        return self.publisher_path.split("/")[1]

    @property
    def channel_key(self) -> str:
        return self.publisher_path.split("/")[2]

    @property
    def demand(self) -> bool:
        return bool(self.viewers) or self.waiting > 0


def without_mdns_candidates(sdp: str) -> str:
    """The offer without its mDNS host candidates (`<uuid>.local`). Browsers hide their local
    addresses behind such names; the relay cannot resolve them (aioice would spend about a
    second trying), and needs not: the browser reaches the relay's own candidates and the relay
    learns the browser's address from those checks (peer-reflexive). Measured on Chromium:
    first frame 1.2 s with them, 0.25 s without (docs/benchmarks.md)."""
    lines = sdp.splitlines()
    kept = [line for line in lines if not (line.startswith("a=candidate:") and ".local " in line)]
    return "\r\n".join(kept) + "\r\n" if len(kept) != len(lines) else sdp


def parse_offer(sdp: str) -> SessionDescription:
    """The SDP offer, or a 400 when it cannot be read or carries no video."""
    if not sdp.strip() or len(sdp) > MAX_SDP_BYTES:
        raise Refusal(400, "the body must be an SDP offer")
    try:
        description = SessionDescription.parse(without_mdns_candidates(sdp))
    except Exception as error:  # aiortc's parser raises whatever the text trips it on
        raise Refusal(400, "the SDP offer could not be read") from error
    if not any(media.kind == "video" for media in description.media):
        raise Refusal(400, "the SDP offer has no video")
    return description


class Hub:
    def __init__(
        self,
        authority: Authority,
        *,
        start_timeout: float = 5.0,
        linger: float = 2.0,
        interval: float = 1.0,
        control_interval: float = 30.0,
        ice_servers: tuple[str, ...] = (),
    ) -> None:
        self.authority = authority
        self.start_timeout = start_timeout
        self.linger = linger
        self.interval = interval
        self.control_interval = control_interval
        self.ice_servers = ice_servers
        self.controls: dict[Key, Control] = {}
        self.channels: dict[Key, Channel] = {}
        self.publishers: dict[str, Publisher] = {}
        self.viewers: dict[str, Viewer] = {}
        self.last_check_ms: float = 0.0
        self._watchdog: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(self._watch())

    async def shutdown(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        for viewer_id in list(self.viewers):
            await self.close_viewer(viewer_id, "the relay is stopping")
        for publisher_id in list(self.publishers):
            await self.close_publisher(publisher_id, "the relay is stopping")
        for control in list(self.controls.values()):
            with contextlib.suppress(Exception):
                await control.close()
        await self.authority.close()

    def _peer_connection(self) -> RTCPeerConnection:
        servers = [RTCIceServer(url) for url in self.ice_servers]
        return RTCPeerConnection(RTCConfiguration(iceServers=servers))

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def channel(self, host: str, publisher_path: str) -> Channel:
        key = (host, publisher_path)
        if key not in self.channels:
            self.channels[key] = Channel(host, publisher_path)
        return self.channels[key]

    # --- bridges' control sockets ------------------------------------------------------------
    async def control_open(self, control: Control) -> None:
        previous = self.controls.get(control.key)
        self.controls[control.key] = control
        if previous is not None:  # the bridge reconnected: its old socket is dead or stale
            with contextlib.suppress(Exception):
                await previous.close()
        # A viewer may be waiting for this device's channel since before it reconnected.
        waiting = [
            channel
            for channel in self.channels.values()
            if (channel.host, channel.device_id) == (control.host, control.device_id)
            and channel.demand
            and channel.publisher is None
        ]
        for channel in waiting:
            await self.tell(channel, "start")

    def control_closed(self, control: Control) -> None:
        if self.controls.get(control.key) is control:
            del self.controls[control.key]

    async def control_lost(self, control: Control) -> None:
        """The bridge's control socket closed and no newer one replaced it: the bridge was
        stopped, crashed or lost its network. A bridge that is still running stops its streams
        itself when this happens (it cannot be told "stop" without the socket); one that died or
        was cut off cannot, and its publisher's connection would only fail on ICE consent, half
        a minute later, its viewers frozen on the last frame meanwhile and any viewer opening
        again handed the dead track. So its publishers close now, and their viewers with them:
        the browser says the stream is interrupted and opens again, which asks the bridge to
        start once it is back (docs/operations.md, "Failure mode: live view interrupted")."""
        if control.key in self.controls:
            self.control_closed(control)
        if control.key in self.controls:
            return  # replaced by a newer socket of the same bridge: its streams stand
        for publisher in list(self.publishers.values()):
            if (publisher.host, publisher.path.split("/")[1]) == (control.host, control.device_id):
                await self.close_publisher(publisher.id, "the bridge's control connection closed")

    async def tell(self, channel: Channel, kind: str) -> bool:
        """Send {"type": kind, "channel": key} to the channel's bridge; False when none listens."""
        control = self.controls.get((channel.host, f"device/{channel.device_id}"))
        if control is None:
            return False
        try:
            await control.send({"type": kind, "channel": channel.channel_key})
        except Exception:
            logger.info("control socket of %s on %s is gone", channel.device_id, channel.host)
            self.control_closed(control)
            return False
        channel.started = kind == "start"
        return True

    # --- publishing (WHIP) -------------------------------------------------------------------
    async def publish(
        self, *, host: str, path: str, credential: str, sdp: str, ip: str
    ) -> Publisher:
        if not PUBLISHER_PATH.fullmatch(path):
            raise Refusal(404, "no such publishing path")
        if not credential:
            raise Refusal(401, "a device credential is required (Authorization: Bearer)")
        offer = parse_offer(sdp)
        decision = await self.authority.authorise(
            host=host, action="publish", path=path, password=credential, ip=ip
        )
        if not decision.allowed:
            raise Refusal(decision.status, decision.reason or "publishing refused")
        channel = self.channel(host, path)
        if channel.publisher is not None:
            await self.close_publisher(channel.publisher.id, "replaced by a new publisher")
        publisher = Publisher(
            id=secrets.token_urlsafe(24),
            host=host,
            path=path,
            credential=credential,
            ip=ip,
            pc=self._peer_connection(),
        )

        @publisher.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            if track.kind == "video" and publisher.track is None:
                publisher.track = track
                if channel.publisher is publisher:
                    channel.ready.set()

        @publisher.pc.on("connectionstatechange")
        async def on_state() -> None:
            if publisher.pc.connectionState in ("failed", "closed"):
                await self.close_publisher(
                    publisher.id, "connection " + publisher.pc.connectionState
                )

        try:
            await publisher.pc.setRemoteDescription(RTCSessionDescription(str(offer), "offer"))
            await publisher.pc.setLocalDescription(await publisher.pc.createAnswer())
        except Exception as error:
            await publisher.pc.close()
            raise Refusal(400, "the SDP offer could not be answered") from error
        self.publishers[publisher.id] = publisher
        channel.publisher = publisher
        channel.started = False
        if publisher.track is not None:
            channel.ready.set()
        # Published without anyone asking (or everyone left meanwhile): it lingers, then stops.
        self._linger_if_idle(channel)
        # No address in the log: a publisher is a resident's bridge (docs/operations.md, logs).
        logger.info("publisher %s on %s", path, host)
        return publisher

    async def close_publisher(
        self, publisher_id: str, why: str, *, tell_bridge: bool = False
    ) -> None:
        publisher = self.publishers.pop(publisher_id, None)
        if publisher is None:
            return
        logger.info("publisher %s on %s closed: %s", publisher.path, publisher.host, why)
        channel = self.channels.get((publisher.host, publisher.path))
        if channel is not None and channel.publisher is publisher:
            channel.publisher = None
            channel.ready.clear()
            if tell_bridge:
                await self.tell(channel, "stop")
            channel.started = False
            # Its viewers see nothing more: close them too (a browser may open again).
            for viewer_id in list(channel.viewers):
                await self.close_viewer(viewer_id, "the camera's stream ended")
            self._forget_if_idle(channel)
        await publisher.pc.close()

    # --- reading (WHEP) ----------------------------------------------------------------------
    async def view(
        self, *, host: str, path: str, token: str, query: str, sdp: str, ip: str
    ) -> Viewer:
        if not CAMERA_PATH.fullmatch(path):
            raise Refusal(404, "no such camera path")
        if not token:
            raise Refusal(401, "a media token is required (Authorization: Bearer or ?token=)")
        offer = parse_offer(sdp)
        decision = await self.authority.authorise(
            host=host, action="read", path=path, token=token, query=query, ip=ip
        )
        if not decision.allowed:
            raise Refusal(decision.status, decision.reason or "viewing refused")
        publisher_path = self._publisher_of(decision)
        channel = self.channel(host, publisher_path)
        channel.waiting += 1
        if channel.linger is not None:
            channel.linger.cancel()
            channel.linger = None
        viewer: Viewer | None = None
        try:
            if channel.publisher is None or channel.publisher.track is None:
                if not channel.started and not await self.tell(channel, "start"):
                    raise Refusal(503, "camera offline")
                try:
                    await asyncio.wait_for(channel.ready.wait(), self.start_timeout)
                except TimeoutError:
                    raise Refusal(503, "camera offline") from None
            publisher = channel.publisher
            if publisher is None or publisher.track is None:
                raise Refusal(503, "camera offline")
            viewer = Viewer(
                id=secrets.token_urlsafe(24),
                host=host,
                path=path,
                publisher_path=publisher_path,
                token=token,
                query=query,
                ip=ip,
                pc=self._peer_connection(),
            )
            await self._answer_viewer(viewer, publisher, offer)
            self.viewers[viewer.id] = viewer
            channel.viewers.add(viewer.id)
            logger.info("viewer of %s on %s", path, host)
            return viewer
        finally:
            channel.waiting -= 1
            if viewer is None and not channel.demand and channel.publisher is None:
                if channel.started:  # asked for nothing in the end
                    await self.tell(channel, "stop")
                    channel.started = False
                self._forget_if_idle(channel)
            else:
                self._linger_if_idle(channel)

    async def _answer_viewer(self, viewer: Viewer, publisher: Publisher, offer: Any) -> None:
        pc = viewer.pc

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self.close_viewer(viewer.id, "connection " + pc.connectionState)

        try:
            await pc.setRemoteDescription(RTCSessionDescription(str(offer), "offer"))
            assert publisher.track is not None
            # Latest frame only (unbuffered): a slow viewer skips frames instead of lagging.
            pc.addTrack(publisher.relay.subscribe(publisher.track, buffered=False))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as error:
            await pc.close()
            raise Refusal(400, "the SDP offer could not be answered") from error

    @staticmethod
    def _publisher_of(decision: Decision) -> str:
        publisher_path = decision.answer.get("publisher")
        if not isinstance(publisher_path, str) or not PUBLISHER_PATH.fullmatch(publisher_path):
            logger.error("media authority allowed a read without a publisher path: %s", decision)
            raise Refusal(502, "the authorisation service named no camera channel")
        return publisher_path

    async def close_viewer(self, viewer_id: str, why: str) -> None:
        viewer = self.viewers.pop(viewer_id, None)
        if viewer is None:
            return
        logger.info("viewer of %s on %s closed: %s", viewer.path, viewer.host, why)
        channel = self.channels.get((viewer.host, viewer.publisher_path))
        if channel is not None:
            channel.viewers.discard(viewer_id)
            self._linger_if_idle(channel)
        await viewer.pc.close()

    # --- the last viewer gone: linger, then stop ---------------------------------------------
    def _linger_if_idle(self, channel: Channel) -> None:
        if channel.demand or channel.linger is not None:
            return
        if channel.publisher is None and not channel.started:
            self._forget_if_idle(channel)
            return
        channel.linger = asyncio.get_running_loop().call_later(
            self.linger, lambda: self._spawn(self._linger_over(channel))
        )

    async def _linger_over(self, channel: Channel) -> None:
        channel.linger = None
        if channel.demand:
            return
        if channel.publisher is not None:
            await self.close_publisher(channel.publisher.id, "nobody watches", tell_bridge=True)
        elif channel.started:
            await self.tell(channel, "stop")
            channel.started = False
        self._forget_if_idle(channel)

    def _forget_if_idle(self, channel: Channel) -> None:
        idle = not channel.demand and channel.publisher is None and not channel.started
        if idle and channel.linger is None:
            key = (channel.host, channel.publisher_path)
            if self.channels.get(key) is channel:
                del self.channels[key]

    # --- the watchdog ------------------------------------------------------------------------
    async def _watch(self) -> None:
        ticks = 0
        per_control = max(1, round(self.control_interval / self.interval))
        while True:
            started = time.monotonic()
            try:
                await self.check(controls=ticks % per_control == per_control - 1)
            except Exception:
                logger.exception("watchdog check failed")
            ticks += 1
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def check(self, *, controls: bool = False) -> None:
        """Ask Canvass again about every viewer and publisher (and, now and then, every bridge),
        all at once; close each one refused, and tell the bridge to stop a refused publisher."""
        started = time.perf_counter()
        viewers = list(self.viewers.values())
        publishers = list(self.publishers.values())
        bridges = list(self.controls.values()) if controls else []
        asks = (
            [
                self.authority.authorise(
                    host=v.host,
                    action="read",
                    path=v.path,
                    token=v.token,
                    query=v.query,
                    ip=v.ip,
                    session_id=v.id,
                )
                for v in viewers
            ]
            + [
                self.authority.authorise(
                    host=p.host,
                    action="publish",
                    path=p.path,
                    password=p.credential,
                    ip=p.ip,
                    session_id=p.id,
                )
                for p in publishers
            ]
            + [
                self.authority.authorise(
                    host=c.host, action="control", path="", password=c.credential, ip=c.ip
                )
                for c in bridges
            ]
        )
        answers = await asyncio.gather(*asks, return_exceptions=True)
        self.last_check_ms = (time.perf_counter() - started) * 1000

        def refused(answer: Decision | BaseException) -> bool:
            return not isinstance(answer, Decision) or not answer.allowed

        for viewer, answer in zip(viewers, answers[: len(viewers)], strict=True):
            moved = isinstance(answer, Decision) and answer.answer.get("publisher") not in (
                None,
                viewer.publisher_path,
            )
            if refused(answer) or moved:
                await self.close_viewer(viewer.id, "refused on re-authorisation")
        rest = answers[len(viewers) :]
        for publisher, answer in zip(publishers, rest[: len(publishers)], strict=True):
            if refused(answer):
                await self.close_publisher(
                    publisher.id, "refused on re-authorisation", tell_bridge=True
                )
        for control, answer in zip(bridges, rest[len(publishers) :], strict=True):
            if refused(answer):
                logger.info("control of %s on %s refused", control.device_id, control.host)
                self.control_closed(control)
                with contextlib.suppress(Exception):
                    await control.close()

    def stats(self) -> dict[str, Any]:
        return {
            "controls": len(self.controls),
            "publishers": len(self.publishers),
            "viewers": len(self.viewers),
            "channels": len(self.channels),
            "last_check_ms": round(self.last_check_ms, 2),
        }
