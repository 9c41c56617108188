"""Live view's relay under load: N simultaneous 1280x720 15 fps streams, each one bridge
publishing over WHIP and one viewer reading over WHEP, every viewer and publisher re-authorised
each second against a stub of Canvass's /media/auth.

The relay runs as production runs it (`python -m relay`, its own process, so its CPU is its own);
this process holds the stub authority, the bridges and the viewers. A bridge sends a pre-encoded
H.264 test pattern as it is (aiortc's passthrough: the bridge's own encoding is not measured
here), the relay decodes it once and encodes VP8 for the viewer (as for Chromium), and the viewer
decodes and counts frames. N grows step by step (1, 2, 3, 4, 6, 8, ...) until fewer than 90% of
the frames sent reach the viewers.

Floors measured in the same run:
- the work a stream needs at the least: decoding the H.264 and encoding VP8 with aiortc's own
  encoder, 15 frames a second in this process, as CPU% of one core;
- a direct peer connection (bridge to viewer, no relay, no authority) for the time to the first
  decoded frame;
- a bare HTTP round trip to the stub (GET /ping) for the authority's latency.

    .venv/bin/python bench/relay.py
    .venv/bin/python bench/relay.py --steps 1,2,4 --seconds 8
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform as platform_module
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

import aiohttp  # noqa: E402
import av  # noqa: E402
from aiohttp import web  # noqa: E402
from aiortc import (  # noqa: E402
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.codecs.vpx import Vp8Encoder  # noqa: E402
from aiortc.contrib.media import MediaPlayer  # noqa: E402
from benchlib import percentile  # noqa: E402

from relay.authority import HttpAuthority  # noqa: E402

KEY = "bench-media-key"
HOST = "bench.localhost"
FPS = 15
NO_STUN = RTCConfiguration(iceServers=[])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its threads, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def encode_test_pattern(path: Path, seconds: float) -> None:
    """A 1280x720 15 fps H.264 test pattern with a running clock, keyframe each second, in
    MPEG-TS (Annex B, what aiortc's passthrough packs), made once with PyAV's FFmpeg."""
    source = av.open(f"testsrc=size=1280x720:rate={FPS}", format="lavfi")
    with av.open(str(path), "w", format="mpegts") as output:
        stream = output.add_stream(
            "libx264",
            rate=FPS,
            options={"preset": "veryfast", "tune": "zerolatency", "g": str(FPS), "bf": "0"},
        )
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.codec_context.profile = "Constrained Baseline"
        for count, frame in enumerate(source.decode(video=0)):
            if count >= seconds * FPS:
                break
            frame.pts = None
            output.mux(stream.encode(frame.reformat(format="yuv420p")))
        output.mux(stream.encode(None))
    source.close()


def transcoding_floor(path: Path, seconds: float) -> tuple[float, float]:
    """CPU% of one core that decoding the pattern, and encoding it in VP8 with aiortc's encoder,
    take at 15 frames a second: the least a relay that re-encodes spends on a stream (one
    decode) and on each of its viewers (one encode)."""
    container = av.open(str(path))
    encoder = Vp8Encoder()
    frames = 0
    decoding = encoding = 0.0
    decoded = container.decode(video=0)
    while frames < seconds * FPS:
        started = time.process_time()
        frame = next(decoded, None)
        decoding += time.process_time() - started
        if frame is None:
            break
        started = time.process_time()
        encoder.encode(frame, force_keyframe=False)
        encoding += time.process_time() - started
        frames += 1
    container.close()
    return 100 * decoding / (frames / FPS), 100 * encoding / (frames / FPS)


class Stub:
    """Canvass's /media/auth for the bench: stream i is device i, channel ch1, camera i,
    credential cvd_i and media token token-i, all on HOST."""

    def __init__(self) -> None:
        self.calls = 0
        self.app = web.Application()
        self.app.router.add_post("/media/auth", self.auth)
        self.app.router.add_get("/ping", self.ping)

    async def ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def auth(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.json()
        if request.query.get("key") != KEY or request.host != HOST:
            return web.json_response({"error": "bad key"}, status=401)
        action, path = body["action"], body["path"]
        if action == "read":
            number = body["token"].removeprefix("token-")
            if path != f"camera/{number}":
                return web.json_response({"error": "another camera"}, status=403)
            return web.json_response(
                {
                    "grant": number,
                    "publisher": f"device/{number}/ch1",
                    "device": number,
                    "channel": "ch1",
                    "expires_at": "2030-01-01T00:00:00Z",
                }
            )
        number = body["password"].removeprefix("cvd_")
        if action == "control":
            return web.json_response({"device": number})
        if path.startswith(f"device/{number}/"):
            return web.json_response({"grant": number})
        return web.json_response({"error": "no open grant"}, status=403)


async def offer(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


def h264_only(pc: RTCPeerConnection, track: Any) -> None:
    transceiver = pc.addTransceiver(track, direction="sendonly")
    codecs = RTCRtpSender.getCapabilities("video").codecs
    transceiver.setCodecPreferences([c for c in codecs if c.mimeType == "video/H264"])


class Stream:
    """One bridge (control socket; on "start", WHIP of the pattern as is) and one viewer."""

    def __init__(
        self, number: int, relay: str, http: aiohttp.ClientSession, video: Path, bridge: bool = True
    ) -> None:
        self.number, self.relay, self.http, self.video = number, relay, http, video
        self.bridge = bridge
        self.headers = {"Host": HOST}
        self.frames = 0
        self.first_frame: float | None = None
        self.posted = 0.0
        self.publisher: RTCPeerConnection | None = None
        self.player: MediaPlayer | None = None
        self.viewer = RTCPeerConnection(NO_STUN)
        self.tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> None:
        if self.bridge:
            socket = await self.http.ws_connect(
                f"{self.relay}/bridge/control",
                headers={**self.headers, "Authorization": f"Bearer cvd_{self.number}"},
            )
            self.tasks.append(asyncio.create_task(self.control(socket)))

        @self.viewer.on("track")
        def on_track(track: Any) -> None:
            self.tasks.append(asyncio.create_task(self.count(track)))

        self.viewer.addTransceiver("video", direction="recvonly")
        sdp = await offer(self.viewer)
        self.posted = time.perf_counter()
        async with self.http.post(
            f"{self.relay}/whep/camera/{self.number}",
            data=sdp,
            headers={
                **self.headers,
                "Content-Type": "application/sdp",
                "Authorization": f"Bearer token-{self.number}",
            },
        ) as response:
            assert response.status == 201, await response.text()
            answer = await response.text()
        await self.viewer.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def control(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for message in socket:
            if message.json().get("type") == "start":
                await self.publish()

    async def publish(self) -> None:
        self.player = MediaPlayer(str(self.video), decode=False)
        self.publisher = RTCPeerConnection(NO_STUN)
        h264_only(self.publisher, self.player.video)
        async with self.http.post(
            f"{self.relay}/whip/device/{self.number}/ch1",
            data=await offer(self.publisher),
            headers={
                **self.headers,
                "Content-Type": "application/sdp",
                "Authorization": f"Bearer cvd_{self.number}",
            },
        ) as response:
            assert response.status == 201, await response.text()
            answer = await response.text()
        await self.publisher.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def count(self, track: Any) -> None:
        with contextlib.suppress(Exception):
            while True:
                await track.recv()
                if self.first_frame is None:
                    self.first_frame = time.perf_counter() - self.posted
                self.frames += 1

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.viewer.close()
        if self.publisher is not None:
            await self.publisher.close()


async def direct_first_frame(video: Path) -> float:
    """Seconds from the offer to the first decoded frame on a direct peer connection."""
    player = MediaPlayer(str(video), decode=False)
    sender, receiver = RTCPeerConnection(NO_STUN), RTCPeerConnection(NO_STUN)
    h264_only(sender, player.video)
    got = asyncio.get_running_loop().create_future()
    tasks: list[asyncio.Task[None]] = []

    @receiver.on("track")
    def on_track(track: Any) -> None:
        async def first() -> None:
            await track.recv()
            got.set_result(time.perf_counter())

        tasks.append(asyncio.create_task(first()))

    started = time.perf_counter()
    await receiver.setRemoteDescription(RTCSessionDescription(await offer(sender), "offer"))
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    first = await asyncio.wait_for(got, 15)
    await sender.close()
    await receiver.close()
    return first - started


async def authority_latency(stub_url: str, runs: int) -> tuple[list[float], list[float]]:
    authority = HttpAuthority(stub_url, KEY)
    bare: list[float] = []
    asked: list[float] = []
    async with aiohttp.ClientSession() as http:
        for _ in range(runs):
            started = time.perf_counter()
            async with http.get(f"{stub_url}/ping", headers={"Host": HOST}) as response:
                await response.read()
            bare.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            decision = await authority.authorise(
                host=HOST, action="read", path="camera/0", token="token-0"
            )
            asked.append((time.perf_counter() - started) * 1000)
            assert decision.allowed
    await authority.close()
    return bare, asked


async def run(arguments: argparse.Namespace) -> list[str]:
    report: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="canvass-bench-relay-"))
    video = workdir / "pattern.ts"
    steps = [int(n) for n in arguments.steps.split(",")]
    longest = 8 + len(steps) * (arguments.seconds + arguments.warmup + 6)
    encode_test_pattern(video, longest)
    floor_decode, floor_encode = transcoding_floor(video, 10)
    floor_cpu = floor_decode + floor_encode
    direct = [await direct_first_frame(video) for _ in range(3)]

    stub = Stub()
    runner = web.AppRunner(stub.app)
    await runner.setup()
    stub_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", stub_port).start()
    stub_url = f"http://127.0.0.1:{stub_port}"
    bare, asked = await authority_latency(stub_url, 300)

    port = free_port()
    command = [
        sys.executable,
        "-m",
        "relay",
        "--port",
        str(port),
        "--canvass-url",
        stub_url,
        "--auth-key",
        KEY,
        "--log-level",
        "WARNING",
    ]
    report.append("relay: " + shlex.join(["python", *command[1:]]))
    relay = subprocess.Popen(command, cwd=ROOT / "platform")
    relay_url = f"http://127.0.0.1:{port}"
    streams: list[Stream] = []
    rows: list[str] = []
    fanout_rows: list[str] = []
    warm: list[float] = []
    best = 0
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"{relay_url}/healthz", headers={"Host": HOST}) as r:
                        if r.status == 200:
                            break
                await asyncio.sleep(0.1)
            # One stream, then two more viewers of it: the decode is shared, each viewer adds
            # its own encoder.
            streams.append(Stream(0, relay_url, http, video))
            await streams[0].start()
            fanout = []
            for viewers in (1, 3):
                while len(fanout) < viewers - 1:
                    fanout.append(Stream(0, relay_url, http, video, bridge=False))
                    await fanout[-1].start()
                await asyncio.sleep(arguments.warmup)
                cpu, wall = cpu_seconds(relay.pid), time.perf_counter()
                frames = [s.frames for s in [streams[0], *fanout]]
                await asyncio.sleep(arguments.seconds)
                wall = time.perf_counter() - wall
                relay_cpu = 100 * (cpu_seconds(relay.pid) - cpu) / wall
                got = sum(s.frames for s in [streams[0], *fanout]) - sum(frames)
                fanout_rows.append(
                    f"| 1 | {viewers} | {got / (FPS * wall * viewers):.0%} | {relay_cpu:.0f} |"
                )
                print(fanout_rows[-1], flush=True)
            warm = [s.first_frame for s in fanout if s.first_frame is not None]
            for extra in fanout:
                await extra.close()
            for n in steps:
                while len(streams) < n:
                    stream = Stream(len(streams), relay_url, http, video)
                    streams.append(stream)
                    await stream.start()
                await asyncio.sleep(arguments.warmup)
                frames = [s.frames for s in streams]
                cpu, ours, wall = cpu_seconds(relay.pid), time.process_time(), time.perf_counter()
                checks: list[float] = []
                end = wall + arguments.seconds
                while time.perf_counter() < end:
                    await asyncio.sleep(1.0)
                    async with http.get(f"{relay_url}/healthz", headers={"Host": HOST}) as r:
                        checks.append((await r.json())["last_check_ms"])
                wall = time.perf_counter() - wall
                relay_cpu = 100 * (cpu_seconds(relay.pid) - cpu) / wall
                client_cpu = 100 * (time.process_time() - ours) / wall
                delivered = sum(s.frames for s in streams) - sum(frames)
                share = delivered / (FPS * wall * n)
                firsts = [s.first_frame for s in streams if s.first_frame is not None]
                rows.append(
                    f"| {n} | {share:.0%} | {relay_cpu:.0f} | {relay_cpu / n:.0f} | "
                    f"{relay_cpu / n / floor_cpu:.2f} | {client_cpu:.0f} | "
                    f"{max(firsts):.2f} | {max(checks):.1f} |"
                )
                each = [s.frames - before for s, before in zip(streams, frames, strict=False)]
                print(rows[-1], "per viewer:", each, flush=True)
                if share >= 0.9:
                    best = n
                else:
                    break
    finally:
        for stream in streams:
            with contextlib.suppress(Exception):
                await stream.close()
        relay.terminate()
        relay.wait(10)
        await runner.cleanup()
    firsts = sorted(s.first_frame for s in streams if s.first_frame is not None)
    report.append(
        f"floor: decoding the 720p H.264 and encoding VP8 at {FPS} fps in one process: "
        f"{floor_cpu:.0f}% of a core ({floor_decode:.0f}% decoding, {floor_encode:.0f}% encoding)"
    )
    report.append(
        "| streams | frames delivered | relay CPU % | relay CPU % per stream | "
        "per stream / floor | clients' CPU % | slowest WHEP POST to first frame, s | "
        "slowest watchdog round, ms |"
    )
    report.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
    report += rows
    report.append(f"largest N with >= 90% of frames delivered: {best}")
    report.append("| streams | viewers | frames delivered | relay CPU % |")
    report.append("|---:|---:|---:|---:|")
    report += fanout_rows
    report.append(
        f"WHEP POST to first decoded frame (bridge asked to start, WHIP, relay, viewer), "
        f"{len(firsts)} viewers: median {percentile(firsts, 0.5):.2f} s, "
        f"max {firsts[-1]:.2f} s; a viewer joining a running stream: "
        f"{', '.join(f'{w:.2f}' for w in warm)} s; direct peer connection (floor), 3 runs: "
        f"median {percentile(direct, 0.5):.2f} s"
    )
    report.append(
        f"authority round trip (relay's client -> stub /media/auth), 300 sequential: "
        f"p50 {percentile(asked, 0.5):.2f} ms, p95 {percentile(asked, 0.95):.2f} ms; "
        f"bare GET to the stub (floor): p50 {percentile(bare, 0.5):.2f} ms, "
        f"p95 {percentile(bare, 0.95):.2f} ms; stub answered {stub.calls} checks in all"
    )
    video.unlink()
    workdir.rmdir()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="1,2,3,4,6,8,10,12", help="values of N, rising")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured per step")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before measuring")
    arguments = parser.parse_args()
    print("command:", shlex.join([".venv/bin/python", "bench/relay.py", *sys.argv[1:]]))
    load_before = os.getloadavg()
    report = asyncio.run(run(arguments))
    load = os.getloadavg()
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, "
        f"Python {platform_module.python_version()}, aiortc with PyAV {av.__version__}; "
        f"load average (1, 5, 15 min) {load_before[0]:.2f} {load_before[1]:.2f} "
        f"{load_before[2]:.2f} at the start, {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
    )
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
