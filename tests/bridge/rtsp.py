"""A real RTSP camera for the tests. FFmpeg (PyAV) cannot serve RTSP to a player: its muxer always
connects out (ANNOUNCE/RECORD), even with rtsp_flags=listen, which only the demuxer honours. So
the camera is two parts: PyAV encodes a test pattern and records it (RTP over TCP) into a tiny
RTSP server here, which replays the same interleaved packets to every player (DESCRIBE/SETUP/PLAY)
- what a recorder's RTSP server does for the bridge."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import threading
import time
from fractions import Fraction

import av


class RtspServer:
    """Accepts one recording publisher and any number of players on 127.0.0.1."""

    def __init__(self) -> None:
        self.sdp: bytes | None = None
        self.players: set[asyncio.StreamWriter] = set()
        self.packets_forwarded = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self.players):
                writer.close()
            await self._server.wait_closed()

    def url(self, path: str = "live") -> str:
        return f"rtsp://viewer:pass@127.0.0.1:{self.port}/{path}"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        recording = False
        try:
            while True:
                first = await reader.readexactly(1)
                if first == b"$":
                    # Interleaved RTP/RTCP: from the publisher, relayed; from a player, dropped.
                    header = await reader.readexactly(3)
                    payload = await reader.readexactly(int.from_bytes(header[1:3], "big"))
                    if recording:
                        for player in list(self.players):
                            player.write(first + header + payload)
                            self.packets_forwarded += 1
                    continue
                head = first + await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method = lines[0].split(" ")[0]
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                reply: list[str] = [f"CSeq: {headers.get('cseq', '0')}"]
                content = b""
                status = "200 OK"
                if method == "OPTIONS":
                    reply.append(
                        "Public: OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, "
                        "TEARDOWN, GET_PARAMETER"
                    )
                elif method == "ANNOUNCE":
                    self.sdp = body
                elif method == "DESCRIBE":
                    if self.sdp is None:
                        status = "404 Not Found"
                    else:
                        url = lines[0].split(" ")[1]
                        content = self.sdp
                        reply += ["Content-Type: application/sdp", f"Content-Base: {url}/"]
                elif method == "SETUP":
                    reply += [f"Transport: {headers.get('transport', '')}", "Session: 1;timeout=60"]
                elif method == "RECORD":
                    recording = True
                    reply.append("Session: 1")
                elif method == "PLAY":
                    reply += ["Session: 1", "Range: npt=0.000-"]
                elif method == "TEARDOWN":
                    self.players.discard(writer)
                if content:
                    reply.append(f"Content-Length: {len(content)}")
                response = f"RTSP/1.0 {status}\r\n" + "".join(f"{line}\r\n" for line in reply)
                writer.write(response.encode("latin-1") + b"\r\n" + content)
                await writer.drain()
                if method == "PLAY":
                    self.players.add(writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            self.players.discard(writer)
            writer.close()


class TestPatternCamera:
    """Encodes a moving pattern (MPEG-4 Part 2, FFmpeg's own encoder) in real time and records it
    to the RTSP server. In a process of its own: PyAV holds the GIL while its RTSP muxer waits
    for the server's answers, and the server runs in this process."""

    __test__ = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, self.url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def stop(self) -> str:
        """Ends the camera; returns what it wrote on standard error ("" when all went well)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
        _, errors = self.process.communicate(timeout=5)
        return errors


def pattern(number: int, width: int, height: int) -> av.VideoFrame:
    """Grey with a white bar that moves 8 pixels a frame."""
    frame = av.VideoFrame(width, height, "yuv420p")
    luma, *chroma = frame.planes
    row = bytearray([16]) * luma.line_size
    column = (number * 8) % (width - 16)
    row[column : column + 16] = b"\xeb" * 16
    luma.update(bytes(row) * height)
    for plane in chroma:
        plane.update(bytes([128]) * plane.buffer_size)
    return frame


def record(url: str, *, width: int = 320, height: int = 240, rate: int = 15) -> None:
    """Records to the RTSP server in real time until terminated."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with av.open(url, "w", format="rtsp", options={"rtsp_transport": "tcp"}) as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.gop_size = rate  # a key frame every second: a player starts within one
        started, number = time.monotonic(), 0
        while not stopping.is_set():
            frame = pattern(number, width, height)
            frame.pts, frame.time_base = number, Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
            number += 1
            stopping.wait(max(0.0, started + number / rate - time.monotonic()))


if __name__ == "__main__":
    record(sys.argv[1])
