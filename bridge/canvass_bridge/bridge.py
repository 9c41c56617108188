"""The bridge's run loop: a heartbeat to the portal, a control connection to the media relay that
says which channel to start and stop, and the pause switch on the device. Nothing is published
without the relay's "start"; the pause switch and a refused credential stop every stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from canvass_bridge import __version__
from canvass_bridge.config import Channel, Config
from canvass_bridge.errors import EXIT_OK, EXIT_REVOKED, BridgeError
from canvass_bridge.net import client_session
from canvass_bridge.portal import CredentialRefused, PortalClient, PortalError
from canvass_bridge.publisher import Publication, PublishError, publish
from canvass_bridge.state import DeviceRecord, DeviceState, StateError

log = logging.getLogger("canvass_bridge")


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter, so that a city's bridges do not all reconnect in
    the same second after the relay restarts."""

    first: float = 1.0
    most: float = 60.0

    def delay(self, attempt: int) -> float:
        ceiling = min(self.most, self.first * 2 ** min(attempt, 16))
        return random.uniform(ceiling / 2, ceiling)


async def claim(
    *, config: Config, state: DeviceState, code: str, session: aiohttp.ClientSession
) -> DeviceRecord:
    """Pairs this device with the site whose claim code the owner was given."""
    code = code.strip()
    if not code or len(code) > 64 or not code.isprintable():
        raise BridgeError("The claim code is empty or malformed: type it as shown to the owner.")
    state.ensure_folder()
    claimed = await PortalClient(config.portal_url, session).claim(code)
    state.credential_store(claimed.credential)
    record = DeviceRecord(
        device_id=claimed.device_id,
        portal_url=config.portal_url,
        relay_url=claimed.relay_url,
        heartbeat_seconds=claimed.heartbeat_seconds,
    )
    state.device_store(record)
    log.info("claimed: this is device %s of %s", record.device_id, config.portal_url)
    return record


async def rotate(*, config: Config, state: DeviceState, session: aiohttp.ClientSession) -> None:
    """Replaces the device credential with a new one from the portal (the old one stops
    working at once)."""
    credential = state.credential()
    if credential is None:
        raise BridgeError("This device is not claimed yet: run `canvass-bridge claim <CODE>`.")
    new = await PortalClient(config.portal_url, session).credential_rotate(credential=credential)
    state.credential_store(new)
    log.info("the device credential was replaced with a new one")


class Bridge:
    def __init__(
        self,
        config: Config,
        state: DeviceState,
        *,
        pause_poll_seconds: float = 0.2,
        backoff: Backoff | None = None,
    ) -> None:
        self.config = config
        self.state = state
        self.pause_poll_seconds = pause_poll_seconds
        self.backoff = backoff or Backoff()
        self.publications: dict[str, Publication] = {}
        # Channels the relay asked for and has not stopped: a start still opening its camera
        # checks it is still wanted before it lets anything out.
        self.wanted: set[str] = set()
        self.exit_code = EXIT_OK
        self.control_connected = False
        self.portal_paused = False
        self.last_heartbeat: dict[str, Any] = {}
        self._paused = False
        self._done = asyncio.Event()
        self._heartbeat_now = asyncio.Event()
        self._control_changed = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._device: DeviceRecord | None = None
        self._relay_url: str | None = None
        self._heartbeat_seconds = 30
        self._session: aiohttp.ClientSession | None = None

    # The loop ---------------------------------------------------------------------------------
    async def run(self) -> int:
        device = self.state.device()
        if device is None or self.state.credential() is None:
            raise BridgeError("This device is not claimed yet: run `canvass-bridge claim <CODE>`.")
        if device.portal_url != self.config.portal_url:
            raise BridgeError(
                f"This device was claimed on {device.portal_url}, but the configuration names "
                f"{self.config.portal_url}: claim it again with a code from the new portal."
            )
        self._device = device
        self._relay_url = device.relay_url
        self._heartbeat_seconds = device.heartbeat_seconds
        self._paused = self.state.paused()
        log.info(
            "canvass-bridge %s: device %s of %s, channels: %s%s",
            __version__,
            device.device_id,
            device.portal_url,
            ", ".join(channel.key for channel in self.config.channels) or "none",
            " (paused on the device)" if self._paused else "",
        )
        async with client_session(self.config) as session:
            self._session = session
            loops = [
                asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
                asyncio.create_task(self._control_loop(), name="control"),
                asyncio.create_task(self._pause_loop(), name="pause"),
            ]
            try:
                await self._done.wait()
            finally:
                await self._stop_all("the bridge is stopping")
                if self._tasks:
                    # Streams being stopped finish (their DELETE sent); a start still opening
                    # its camera has three seconds, then it is cancelled.
                    await asyncio.wait(set(self._tasks), timeout=3)
                for task in [*loops, *self._tasks]:
                    task.cancel()
                await asyncio.gather(*loops, *self._tasks, return_exceptions=True)
                if self._ws is not None:
                    await self._ws.close()
                self._status_store()
        return self.exit_code

    def stop(self) -> None:
        """Ends run() (SIGTERM, or a test)."""
        self._done.set()

    @property
    def paused(self) -> bool:
        return self._paused

    # Heartbeat --------------------------------------------------------------------------------
    async def _heartbeat_loop(self) -> None:
        assert self._session is not None
        portal = PortalClient(self.config.portal_url, self._session)
        failures = 0
        while not self._done.is_set():
            self._heartbeat_now.clear()
            credential = self.state.credential() or ""
            paused = self._paused
            try:
                answer = await portal.heartbeat(
                    credential=credential, channels=self.config.channels, paused=paused
                )
            except CredentialRefused as error:
                if await self._credential_replaced(credential):
                    continue
                await self._revoked(str(error))
                return
            except PortalError as error:
                failures += 1
                log.warning("heartbeat failed: %s", error)
                self.last_heartbeat = {"at": time.time(), "ok": False, "error": str(error)}
                wait = min(float(self._heartbeat_seconds), self.backoff.delay(failures))
            else:
                failures = 0
                self.last_heartbeat = {"at": time.time(), "ok": True, "paused": paused}
                await self._heartbeat_answer(portal, answer.heartbeat_seconds, answer.relay_url)
                if answer.paused != self.portal_paused:
                    self.portal_paused = answer.paused
                    log.info(
                        "the portal says live view is %s for this device",
                        "paused" if answer.paused else "not paused",
                    )
                    if answer.paused:
                        # The relay stops these too (their grants end); stopping here as well
                        # costs nothing.
                        await self._stop_all("paused in the portal")
                if answer.rotate_credential:
                    await self._rotate(portal)
                # The interval the portal asks for applies from this beat on.
                wait = float(self._heartbeat_seconds)
            self._status_store()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._heartbeat_now.wait(), timeout=wait)

    async def _heartbeat_answer(
        self, portal: PortalClient, heartbeat_seconds: int, relay_url: str | None
    ) -> None:
        assert self._device is not None
        self._heartbeat_seconds = heartbeat_seconds
        if relay_url != self._relay_url:
            log.info("the portal names the media relay %s", relay_url or "(none: live view off)")
            self._relay_url = relay_url
            await self._control_reconnect()
        record = DeviceRecord(
            device_id=self._device.device_id,
            portal_url=self._device.portal_url,
            relay_url=relay_url,
            heartbeat_seconds=heartbeat_seconds,
        )
        if record != self._device:
            self._device = record
            with contextlib.suppress(StateError):
                self.state.device_store(record)

    async def _rotate(self, portal: PortalClient) -> None:
        try:
            new = await portal.credential_rotate(credential=self.state.credential() or "")
            self.state.credential_store(new)
        except CredentialRefused as error:
            await self._revoked(str(error))
            return
        except (PortalError, StateError) as error:
            log.warning("the portal asked for a new credential, but rotating failed: %s", error)
            return
        log.info("the device credential was replaced with a new one, as the portal asked")
        await self._control_reconnect()

    async def _credential_replaced(self, used: str) -> bool:
        """A 401 right after `canvass-bridge rotate` ran beside the service is no revocation."""
        await asyncio.sleep(0.5)
        return (self.state.credential() or "") != used

    async def _revoked(self, reason: str) -> None:
        log.error(
            "the portal refused this device's credential (%s): it was revoked or replaced. "
            "Every stream is stopped and the bridge exits; claim the device again with a new "
            "code from the owner's portal.",
            reason,
        )
        self.exit_code = EXIT_REVOKED
        self.last_heartbeat = {"at": time.time(), "ok": False, "error": "credential refused"}
        await self._stop_all("the credential was refused")
        self._done.set()

    # Control connection -----------------------------------------------------------------------
    async def _control_loop(self) -> None:
        assert self._session is not None
        attempt = 0
        while not self._done.is_set():
            self._control_changed.clear()
            relay_url = self._relay_url
            if not relay_url:
                await self._wait_for(self._control_changed, None)
                continue
            url = f"{relay_url.rstrip('/')}/bridge/control"
            try:
                async with self._session.ws_connect(
                    url,
                    headers={"Authorization": f"Bearer {self.state.credential() or ''}"},
                    heartbeat=20,
                    timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5),
                ) as ws:
                    self._ws = ws
                    self.control_connected = True
                    attempt = 0
                    log.info("connected to the media relay at %s", relay_url)
                    await ws.send_json(
                        {
                            "type": "hello",
                            "version": __version__,
                            "channels": [channel.key for channel in self.config.channels],
                        }
                    )
                    self._status_store()
                    async for message in ws:
                        if message.type == aiohttp.WSMsgType.TEXT:
                            await self._control_message(message.data)
                        elif message.type == aiohttp.WSMsgType.ERROR:
                            break
                if not self._done.is_set() and not self._control_changed.is_set():
                    log.warning("the media relay closed the control connection")
            except aiohttp.WSServerHandshakeError as error:
                log.warning("the media relay refused the control connection: %s", error.status)
                if error.status == 401:
                    # The portal is the authority on the credential: ask it now.
                    self._heartbeat_now.set()
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.warning("the media relay cannot be reached: %s", type(error).__name__)
            finally:
                self._ws = None
                if self.control_connected:
                    self.control_connected = False
                    # Without the control connection the relay cannot say "stop": stop first.
                    await self._stop_all("the control connection to the relay is closed")
                    self._status_store()
            if self._done.is_set():
                return
            if self._control_changed.is_set():
                continue
            delay = self.backoff.delay(attempt)
            attempt += 1
            await self._wait_for(self._control_changed, delay)

    async def _control_reconnect(self) -> None:
        self._control_changed.set()
        if self._ws is not None:
            await self._ws.close()

    async def _control_message(self, text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            log.warning("the relay sent something that is not JSON; ignored")
            return
        if not isinstance(message, dict):
            return
        kind, key = message.get("type"), message.get("channel")
        if kind == "start" and isinstance(key, str):
            self._start(key)
        elif kind == "stop" and isinstance(key, str):
            self.wanted.discard(key)
            # Taken out of the publications now, stopped in the background: the next message
            # (a start for another camera, say) is not kept waiting for the DELETE.
            publication = self.publications.pop(key, None)
            if publication is not None:
                self._spawn(self._publication_stop(publication, "the relay said stop"))
        else:
            log.debug("control message %r ignored", kind)

    # Publishing ---------------------------------------------------------------------------------
    def _start(self, key: str) -> None:
        channel = self.config.channel(key)
        if channel is None:
            log.warning("the relay asked for channel %r, which this bridge does not have", key)
            return
        if self.state.paused():
            log.info("channel %s: not started, the device is paused", key)
            return
        if key in self.wanted:
            return
        self.wanted.add(key)
        self._spawn(self._publish(channel))

    async def _publish(self, channel: Channel) -> None:
        assert self._session is not None and self._device is not None
        relay_url = self._relay_url
        credential = self.state.credential()
        if not relay_url or not credential:
            self.wanted.discard(channel.key)
            return
        log.info("channel %s: starting, as the relay asked", channel.key)
        try:
            publication = await publish(
                session=self._session,
                relay_url=relay_url,
                device_id=self._device.device_id,
                channel=channel,
                credential=credential,
                ice_servers=self.config.ice_servers,
                on_end=self._publication_ended,
            )
        except PublishError as error:
            self.wanted.discard(channel.key)
            log.warning("channel %s: not published: %s", channel.key, error)
            if error.status == 401:
                # The portal is the authority on the credential: ask it now.
                self._heartbeat_now.set()
            return
        except Exception:
            # Whatever went wrong inside aiortc or FFmpeg, the channel must stay startable.
            self.wanted.discard(channel.key)
            log.exception("channel %s: not published", channel.key)
            return
        if (
            channel.key not in self.wanted
            or channel.key in self.publications  # a stop and a new start while this one opened
            or self.state.paused()
            or self._done.is_set()
        ):
            await publication.stop(why="stopped before it began")
            return
        self.publications[channel.key] = publication
        self._status_store()

    def _publication_ended(self, publication: Publication, why: str) -> None:
        key = publication.channel.key
        if self.publications.get(key) is publication:
            self.wanted.discard(key)
            del self.publications[key]
            self._spawn(self._publication_stop(publication, why))

    async def _publication_stop(self, publication: Publication, why: str) -> None:
        await publication.stop(why=why)
        self._status_store()

    async def _stop_all(self, why: str) -> None:
        self.wanted.clear()
        publications = list(self.publications.values())
        self.publications.clear()
        if publications:
            await asyncio.gather(*(publication.stop(why=why) for publication in publications))
            self._status_store()

    # The pause switch ----------------------------------------------------------------------------
    async def _pause_loop(self) -> None:
        while not self._done.is_set():
            paused = self.state.paused()
            if paused != self._paused:
                self._paused = paused
                if paused:
                    log.info("paused on the device: every stream stops, none starts")
                    await self._stop_all("paused on the device")
                else:
                    log.info("resumed on the device")
                self._heartbeat_now.set()
                self._status_store()
            await self._wait_for(self._done, self.pause_poll_seconds)

    # Helpers ----------------------------------------------------------------------------------
    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait_for(self, event: asyncio.Event, timeout: float | None) -> None:
        waiters = [asyncio.create_task(event.wait()), asyncio.create_task(self._done.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _status_store(self) -> None:
        with contextlib.suppress(StateError):
            self.state.status_store(
                {
                    "updated_at": time.time(),
                    "paused": self._paused,
                    "portal_paused": self.portal_paused,
                    "control_connected": self.control_connected,
                    "publishing": sorted(self.publications),
                    "last_heartbeat": self.last_heartbeat,
                    "revoked": self.exit_code == EXIT_REVOKED,
                }
            )
