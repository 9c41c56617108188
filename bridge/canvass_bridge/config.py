"""The bridge's configuration file (TOML): which portal it belongs to, where it keeps its state,
and the camera channels it may publish. Every mistake is refused with a message naming the line's
setting, before anything connects."""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from canvass_bridge.logs import redact

DEFAULT_CONFIG = Path("/etc/canvass-bridge/config.toml")
DEFAULT_STATE_DIR = Path("/var/lib/canvass-bridge")

# A channel key becomes part of the relay's path (device/<id>/<key>): short and URL-safe.
CHANNEL_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
SOURCE_SCHEMES = ("rtsp://", "rtsps://", "lavfi:", "file:")


class ConfigError(Exception):
    """The configuration file cannot be used; the message says why."""


@dataclass(frozen=True)
class Channel:
    """One camera stream the bridge can publish, under a key the owner maps to a camera."""

    key: str
    name: str
    source: str

    @property
    def is_rtsp(self) -> bool:
        return self.source.startswith(("rtsp://", "rtsps://"))

    @property
    def is_lavfi(self) -> bool:
        return self.source.startswith("lavfi:")

    def media_source(self) -> tuple[str, str | None, dict[str, str]]:
        """(file, format, options) for PyAV/aiortc's MediaPlayer."""
        if self.is_lavfi:
            return self.source.removeprefix("lavfi:"), "lavfi", {}
        if self.is_rtsp:
            # TCP: UDP loses packets on busy home networks; a 5 s socket timeout notices a
            # recorder that went away.
            return self.source, None, {"rtsp_transport": "tcp", "timeout": "5000000"}
        return self.source.removeprefix("file:"), None, {}

    def source_for_log(self) -> str:
        """The source without the camera's password."""
        return redact(self.source)


@dataclass(frozen=True)
class Config:
    portal_url: str
    state_dir: Path
    channels: tuple[Channel, ...]
    # STUN servers for WebRTC; none by default: the relay has a public address, so the bridge's
    # own host candidates are enough and nothing else is contacted.
    ice_servers: tuple[str, ...] = ()
    # Dial this address for the portal and the relay instead of asking DNS (their names still
    # go in Host and TLS): for a portal the local resolver cannot find.
    connect_host: str | None = None
    path: Path | None = field(default=None, compare=False)

    def channel(self, key: str) -> Channel | None:
        return next((channel for channel in self.channels if channel.key == key), None)


def config_path(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    return Path(os.environ.get("CANVASS_BRIDGE_CONFIG") or DEFAULT_CONFIG)


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"No configuration file at {path} (copy config.example.toml there)"
        ) from None
    except OSError as error:
        raise ConfigError(f"Cannot read {path}: {error.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path} is not valid TOML: {error}") from None
    return parse_config(data, path=path)


def parse_config(data: dict[str, Any], *, path: Path | None = None) -> Config:
    portal_url = data.get("portal_url")
    if not isinstance(portal_url, str) or not portal_url.strip():
        raise ConfigError("portal_url is missing (the city's Canvass address, https://...)")
    portal_url = portal_url.strip().rstrip("/")
    parts = urlsplit(portal_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"portal_url must be an https:// address, not {portal_url!r}")

    state_dir_value = data.get("state_dir") or os.environ.get("STATE_DIRECTORY")
    if state_dir_value is not None and not isinstance(state_dir_value, str):
        raise ConfigError("state_dir must be a folder path")
    # systemd's StateDirectory= may list several folders separated by colons; the first is ours.
    state_dir = Path(state_dir_value.split(":")[0]) if state_dir_value else DEFAULT_STATE_DIR

    raw_channels = data.get("channels", [])
    if not isinstance(raw_channels, list):
        raise ConfigError("channels must be a list of [[channels]] tables")
    channels: list[Channel] = []
    for number, raw in enumerate(raw_channels, start=1):
        channels.append(_channel(raw, number))
    keys = [channel.key for channel in channels]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ConfigError(f"channel keys must be unique; repeated: {', '.join(duplicates)}")

    ice_servers = data.get("ice_servers", [])
    if not isinstance(ice_servers, list) or not all(
        isinstance(server, str) and server.startswith(("stun:", "turn:")) for server in ice_servers
    ):
        raise ConfigError('ice_servers must be a list of "stun:host:port" addresses')
    connect_host = data.get("connect_host")
    if connect_host is not None:
        try:
            ipaddress.ip_address(connect_host if isinstance(connect_host, str) else "")
        except ValueError:
            raise ConfigError(
                f"connect_host must be an IP address such as 127.0.0.1, not {connect_host!r}"
            ) from None
    return Config(
        portal_url=portal_url,
        state_dir=state_dir,
        channels=tuple(channels),
        ice_servers=tuple(ice_servers),
        connect_host=connect_host,
        path=path,
    )


def _channel(raw: object, number: int) -> Channel:
    if not isinstance(raw, dict):
        raise ConfigError(f"channel {number} must be a table with key, name and source")
    key, name, source = raw.get("key"), raw.get("name"), raw.get("source")
    if not isinstance(key, str) or not CHANNEL_KEY.match(key):
        raise ConfigError(
            f"channel {number}: key must be 1 to 32 letters, digits, '-' or '_' (got {key!r})"
        )
    if name is None:
        name = key
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise ConfigError(f"channel {key}: name must be a short text")
    if not isinstance(source, str) or not source.startswith(SOURCE_SCHEMES):
        raise ConfigError(
            f"channel {key}: source must be an rtsp:// address (or lavfi:... for a test pattern)"
        )
    return Channel(key=key, name=name.strip(), source=source)
