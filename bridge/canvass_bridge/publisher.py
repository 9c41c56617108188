"""Publishing one camera channel to the media relay with WHIP: aiortc reads the camera through
FFmpeg (PyAV), offers a WebRTC connection with all its candidates, and the relay answers. Stopping
closes the connection first (no more bytes leave) and then DELETEs the WHIP resource."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from urllib.parse import urljoin

import aiohttp
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from canvass_bridge.config import Channel
from canvass_bridge.logs import redact
from canvass_bridge.portal import user_agent

log = logging.getLogger("canvass_bridge.publisher")

WHIP_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
DELETE_TIMEOUT = aiohttp.ClientTimeout(total=3)


class PublishError(Exception):
    """The channel could not be published; the message is safe to log."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def whip_url(relay_url: str, device_id: int, channel_key: str) -> str:
    return f"{relay_url.rstrip('/')}/whip/device/{device_id}/{channel_key}"


def player_open(channel: Channel) -> MediaPlayer:
    """Opens the camera (blocking: an RTSP recorder can take seconds to answer)."""
    file, media_format, options = channel.media_source()
    if channel.is_rtsp:
        # Video only: an audio stream nobody sends would pile up decoded frames in memory.
        options = {**options, "allowed_media_types": "video"}
    return MediaPlayer(file, format=media_format, options=options or None)


class Publication:
    """One channel being published: its peer connection, its camera reader, its WHIP resource."""

    def __init__(
        self,
        *,
        channel: Channel,
        player: MediaPlayer,
        connection: RTCPeerConnection,
        session: aiohttp.ClientSession,
        credential: str,
    ) -> None:
        self.channel = channel
        self.player = player
        self.connection = connection
        self.session = session
        self.credential = credential
        self.resource_url: str | None = None
        # Set when the relay closes the connection, the camera's stream ends, or stop() ran.
        self.ended = asyncio.Event()
        self.stopped = False
        self._drain: asyncio.Task[None] | None = None

    async def stop(self, *, why: str) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.ended.set()
        # Media first: once the connection is closed nothing more leaves the premises.
        await self.connection.close()
        for track in (self.player.video, self.player.audio):
            if track is not None:
                track.stop()
        if self._drain is not None:
            self._drain.cancel()
        if self.resource_url:
            headers = {"Authorization": f"Bearer {self.credential}", "User-Agent": user_agent()}
            try:
                async with self.session.delete(
                    self.resource_url, headers=headers, timeout=DELETE_TIMEOUT
                ) as response:
                    await response.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.info(
                    "channel %s: the relay's WHIP resource could not be deleted (%s)",
                    self.channel.key,
                    type(error).__name__,
                )
        log.info("channel %s: stopped publishing (%s)", self.channel.key, why)

    def drain_audio(self) -> None:
        """Reads and drops the audio of a source that has some (only video is published)."""
        audio = self.player.audio
        if audio is None:
            return

        async def drain(track: MediaStreamTrack) -> None:
            with contextlib.suppress(MediaStreamError):
                while True:
                    await track.recv()

        self._drain = asyncio.create_task(drain(audio))


async def publish(
    *,
    session: aiohttp.ClientSession,
    relay_url: str,
    device_id: int,
    channel: Channel,
    credential: str,
    ice_servers: tuple[str, ...] = (),
    on_end: Callable[[Publication, str], None] | None = None,
) -> Publication:
    """Opens the camera and publishes it; raises PublishError (and leaves nothing open) if the
    camera cannot be read or the relay refuses."""
    try:
        player = await asyncio.to_thread(player_open, channel)
    except Exception as error:
        raise PublishError(
            f"camera {channel.source_for_log()} cannot be read: {_reason(error)}"
        ) from None
    if player.video is None:
        if player.audio is not None:
            player.audio.stop()
        raise PublishError(f"camera {channel.source_for_log()} has no video")

    configuration = RTCConfiguration(iceServers=[RTCIceServer(urls=url) for url in ice_servers])
    connection = RTCPeerConnection(configuration)
    publication = Publication(
        channel=channel,
        player=player,
        connection=connection,
        session=session,
        credential=credential,
    )
    connection.addTransceiver(player.video, direction="sendonly")
    publication.drain_audio()

    def ended(why: str) -> None:
        if not publication.stopped and not publication.ended.is_set():
            publication.ended.set()
            if on_end is not None:
                on_end(publication, why)

    @connection.on("connectionstatechange")
    def state_changed() -> None:
        if connection.connectionState in ("failed", "closed"):
            ended(f"the relay's connection is {connection.connectionState}")

    @player.video.on("ended")
    def source_ended() -> None:
        ended("the camera's stream ended")

    url = whip_url(relay_url, device_id, channel.key)
    try:
        # aiortc gathers every candidate before setLocalDescription returns: a non-trickle offer.
        await connection.setLocalDescription(await connection.createOffer())
        headers = {
            "Authorization": f"Bearer {credential}",
            "Content-Type": "application/sdp",
            "User-Agent": user_agent(),
        }
        async with session.post(
            url, data=connection.localDescription.sdp, headers=headers, timeout=WHIP_TIMEOUT
        ) as response:
            body = await response.text()
            if response.status != 201:
                raise PublishError(
                    f"the relay refused channel {channel.key}: {response.status} "
                    f"{_error_text(body, response.content_type)}",
                    status=response.status,
                )
            location = response.headers.get("Location")
            publication.resource_url = urljoin(url, location) if location else None
        await connection.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    except PublishError:
        await publication.stop(why="refused")
        raise
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as error:
        await publication.stop(why="failed")
        raise PublishError(
            f"channel {channel.key}: the relay cannot be reached ({_reason(error)})"
        ) from None
    log.info("channel %s: publishing %s", channel.key, channel.source_for_log())
    return publication


def _reason(error: BaseException) -> str:
    return redact(str(error) or type(error).__name__)


def _error_text(body: str, content_type: str) -> str:
    if content_type == "application/json":
        with contextlib.suppress(ValueError):
            data = json.loads(body)
            if isinstance(data, dict) and isinstance(data.get("error"), str):
                return data["error"]
    return body[:200].strip()
