"""What the bridge keeps in its state folder: the device credential (mode 0600, nothing else can
read it), what the portal said at pairing (device id, relay address), and the pause switch."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CREDENTIAL_FILE = "credential"
DEVICE_FILE = "device.json"
PAUSE_FILE = "paused"
STATUS_FILE = "status.json"

CREDENTIAL_PATTERN = re.compile(r"cvd_[A-Za-z0-9_-]+")


class StateError(Exception):
    """The state folder cannot be used; the message says why."""


@dataclass(frozen=True)
class DeviceRecord:
    """What the portal answered when the device was claimed (nothing secret)."""

    device_id: int
    portal_url: str
    relay_url: str | None
    heartbeat_seconds: int


class DeviceState:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    # The credential -----------------------------------------------------------------------
    @property
    def credential_path(self) -> Path:
        return self.folder / CREDENTIAL_FILE

    def credential(self) -> str | None:
        """Read from the file every time: `canvass-bridge rotate` may have replaced it while the
        service runs."""
        try:
            return self.credential_path.read_text(encoding="ascii").strip() or None
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StateError(
                f"Cannot read {self.credential_path}: {error.strerror} (run this as root or as "
                "the bridge's user, canvass-bridge)"
            ) from None

    def credential_store(self, credential: str) -> None:
        if not CREDENTIAL_PATTERN.fullmatch(credential):
            raise StateError("the portal answered something that is not a device credential")
        self._write_private(CREDENTIAL_FILE, credential + "\n")

    # The device record ----------------------------------------------------------------------
    def device(self) -> DeviceRecord | None:
        try:
            data = json.loads((self.folder / DEVICE_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise StateError(f"{self.folder / DEVICE_FILE} is unreadable: {error}") from None
        return DeviceRecord(
            device_id=int(data["device_id"]),
            portal_url=str(data["portal_url"]),
            relay_url=data.get("relay_url") or None,
            heartbeat_seconds=int(data.get("heartbeat_seconds") or 30),
        )

    def device_store(self, record: DeviceRecord) -> None:
        body = {
            "device_id": record.device_id,
            "portal_url": record.portal_url,
            "relay_url": record.relay_url,
            "heartbeat_seconds": record.heartbeat_seconds,
        }
        self._write_private(DEVICE_FILE, json.dumps(body, indent=2) + "\n")

    # The pause switch -----------------------------------------------------------------------
    @property
    def pause_path(self) -> Path:
        return self.folder / PAUSE_FILE

    def paused(self) -> bool:
        return self.pause_path.exists()

    def pause_set(self, paused: bool) -> None:
        self.ensure_folder()
        try:
            if paused:
                self.pause_path.touch(mode=0o644, exist_ok=True)
            else:
                self.pause_path.unlink(missing_ok=True)
        except OSError as error:
            raise StateError(
                f"Cannot change {self.pause_path}: {error.strerror} (run this as root or as the "
                "bridge's user, canvass-bridge)"
            ) from None

    # What the running service last knew (for `canvass-bridge status`) ------------------------
    def status(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.folder / STATUS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def status_store(self, status: dict[str, Any]) -> None:
        self._write_private(STATUS_FILE, json.dumps(status, indent=2) + "\n", mode=0o644)

    # Helpers ----------------------------------------------------------------------------------
    def ensure_folder(self) -> None:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as error:
            raise StateError(f"Cannot create the state folder {self.folder}: {error}") from None

    def _write_private(self, name: str, text: str, *, mode: int = 0o600) -> None:
        """Written to a temporary file created 0600 (never readable by others, not even for a
        moment), then renamed over the old one: a crash leaves the old file or the new one."""
        self.ensure_folder()
        target = self.folder / name
        temporary = self.folder / f".{name}.{os.getpid()}.tmp"
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        except OSError as error:
            temporary.unlink(missing_ok=True)
            raise StateError(f"Cannot write {target}: {error.strerror}") from None
