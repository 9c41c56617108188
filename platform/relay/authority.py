"""The relay's client of Canvass's media authorisation endpoint (`POST /media/auth?key=...` on
the city's host, MediaMTX's `authMethod: http` shape). It fails closed: a timeout, a refused
connection or an answer it cannot read is a refusal."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import aiohttp

logger = logging.getLogger(__name__)

Action = Literal["read", "publish", "control"]


@dataclass(frozen=True)
class Decision:
    """Canvass's answer: allowed or not, its HTTP status and reason, and what it said."""

    allowed: bool
    status: int
    reason: str = ""
    answer: dict[str, Any] = field(default_factory=dict)


class Authority(Protocol):
    """What the relay needs of its authority (the real HTTP client, or a test's double)."""

    async def authorise(
        self,
        *,
        host: str,
        action: Action,
        path: str,
        password: str = "",
        token: str = "",
        ip: str = "",
        query: str = "",
        session_id: str = "",
    ) -> Decision: ...

    async def close(self) -> None: ...


class HttpAuthority:
    """Asks Canvass at `canvass_url` (e.g. http://127.0.0.1:8000), sending the city's hostname
    as `Host` so the answer comes from that city's schema and its signing salt."""

    def __init__(self, canvass_url: str, key: str, *, timeout: float = 1.0) -> None:
        self.url = canvass_url.rstrip("/") + "/media/auth"
        self.key = key
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # One connection pool for every check: the watchdog asks many times a second.
            self._session = aiohttp.ClientSession(
                timeout=self.timeout,
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30),
            )
        return self._session

    async def authorise(
        self,
        *,
        host: str,
        action: Action,
        path: str,
        password: str = "",
        token: str = "",
        ip: str = "",
        query: str = "",
        session_id: str = "",
    ) -> Decision:
        body = {
            "user": "",
            "password": password,
            "token": token,
            "ip": ip,
            "action": action,
            "path": path,
            "protocol": "webrtc",
            "id": session_id,
            "query": query,
        }
        try:
            async with self._client().post(
                self.url, params={"key": self.key}, json=body, headers={"Host": host}
            ) as response:
                text = await response.text()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            logger.warning("media authority unreachable (%s): refusing %s %s", error, action, path)
            return Decision(False, 503, "the authorisation service did not answer")
        try:
            answer = json.loads(text) if text else {}
        except ValueError:
            answer = {}
        if not isinstance(answer, dict):
            answer = {}
        if 200 <= status < 300:
            return Decision(True, status, "", answer)
        reason = answer.get("error") if isinstance(answer.get("error"), str) else ""
        # Only refusals Canvass means pass through; anything else (a 404, a 500) is the relay's
        # own trouble to the client: 503, still refused.
        if status not in (401, 403):
            logger.warning("media authority answered %s: refusing %s %s", status, action, path)
            return Decision(False, 503, "the authorisation service did not answer")
        return Decision(False, status, reason or "refused")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
