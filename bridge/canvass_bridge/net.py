"""The bridge's HTTP client: one session for the portal and the relay, which can dial a fixed
address instead of asking DNS (`connect_host`), keeping the portal's name in Host and TLS."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from canvass_bridge.config import Config
from canvass_bridge.portal import user_agent


class FixedAddress(AbstractResolver):
    """Every name resolves to one address: for a portal whose name the local resolver does not
    know (a demo's *.localhost, a lab behind split DNS)."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        return [
            ResolveResult(
                hostname=host,
                host=self.address,
                port=port,
                family=family,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


def client_session(config: Config) -> aiohttp.ClientSession:
    options: dict[str, Any] = {}
    if config.connect_host:
        options["connector"] = aiohttp.TCPConnector(resolver=FixedAddress(config.connect_host))
    return aiohttp.ClientSession(headers={"User-Agent": user_agent()}, **options)
