"""The city's Canvass portal, as the bridge sees it: the device API (claim, heartbeat, credential
rotation) over HTTPS. Only outbound requests; the credential goes in a header, never in a log."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

import aiohttp

from canvass_bridge import __version__
from canvass_bridge.config import Channel

API = "/api/device/v1"
TIMEOUT = aiohttp.ClientTimeout(total=15, connect=10)


class PortalError(Exception):
    """The portal could not be reached or answered with an error; the message is safe to log."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CredentialRefused(PortalError):
    """401: the credential is revoked, replaced or unknown. The device must stop everything."""


@dataclass(frozen=True)
class Claimed:
    device_id: int
    credential: str
    heartbeat_seconds: int
    relay_url: str | None


@dataclass(frozen=True)
class HeartbeatAnswer:
    heartbeat_seconds: int
    relay_url: str | None
    paused: bool
    # The portal may ask the device to replace its credential (after a suspected leak, say).
    rotate_credential: bool


def user_agent() -> str:
    return f"canvass-bridge/{__version__}"


class PortalClient:
    def __init__(self, portal_url: str, session: aiohttp.ClientSession) -> None:
        self.portal_url = portal_url.rstrip("/")
        self.session = session

    async def claim(self, code: str) -> Claimed:
        body = {"code": code, "bridge_version": __version__, "hostname": socket.gethostname()}
        data = await self._post("/claim", body, credential=None, expect=(200, 201))
        try:
            return Claimed(
                device_id=int(data["device_id"]),
                credential=str(data["credential"]),
                heartbeat_seconds=_seconds(data.get("heartbeat_seconds")),
                relay_url=data.get("relay_url") or None,
            )
        except (KeyError, TypeError, ValueError):
            raise PortalError("the portal's answer to the claim is incomplete") from None

    async def heartbeat(
        self, *, credential: str, channels: tuple[Channel, ...], paused: bool
    ) -> HeartbeatAnswer:
        body = {
            "channels": [{"key": channel.key, "name": channel.name} for channel in channels],
            "paused": paused,
            "bridge_version": __version__,
        }
        data = await self._post("/heartbeat", body, credential=credential, expect=(200,))
        return HeartbeatAnswer(
            heartbeat_seconds=_seconds(data.get("heartbeat_seconds")),
            relay_url=data.get("relay_url") or None,
            paused=bool(data.get("paused", False)),
            rotate_credential=bool(data.get("rotate_credential", False)),
        )

    async def credential_rotate(self, *, credential: str) -> str:
        data = await self._post("/credential", {}, credential=credential, expect=(200, 201))
        new = data.get("credential")
        if not isinstance(new, str) or not new:
            raise PortalError("the portal's answer to the rotation has no credential")
        return new

    async def _post(
        self,
        path: str,
        body: dict[str, Any],
        *,
        credential: str | None,
        expect: tuple[int, ...],
    ) -> dict[str, Any]:
        headers = {"User-Agent": user_agent(), "Accept": "application/json"}
        if credential:
            headers["Authorization"] = f"Bearer {credential}"
        url = f"{self.portal_url}{API}{path}"
        try:
            async with self.session.post(
                url, json=body, headers=headers, timeout=TIMEOUT
            ) as response:
                try:
                    data = await response.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    data = None
                if response.status in expect and isinstance(data, dict):
                    return data
                reason = data.get("error") if isinstance(data, dict) else None
                message = f"{API}{path}: {response.status} {reason or response.reason or ''}"
                if response.status == 401:
                    raise CredentialRefused(message.strip(), status=401)
                raise PortalError(message.strip(), status=response.status)
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            raise PortalError(f"{API}{path}: the portal cannot be reached ({error!r})") from None


def _seconds(value: object) -> int:
    """The heartbeat interval the portal asks for, within sane bounds (30 s if it says nothing)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 30
    try:
        seconds = int(value)
    except ValueError:
        return 30
    return min(max(seconds, 1), 3600)
