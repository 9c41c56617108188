"""`canvass-bridge`: claim (pair with a site), run (the service), pause / resume (the switch on the
device), status, rotate (a new credential). Prints what happened; never prints the credential."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import aiohttp

from canvass_bridge import __version__
from canvass_bridge.config import Config, ConfigError, config_path, load_config
from canvass_bridge.errors import EXIT_OK, EXIT_UNUSABLE, BridgeError
from canvass_bridge.logs import logging_setup
from canvass_bridge.net import client_session
from canvass_bridge.portal import PortalError
from canvass_bridge.state import DeviceState, StateError

log = logging.getLogger("canvass_bridge")
T = TypeVar("T")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="canvass-bridge",
        description="Publishes the owner's cameras to the city's Canvass media relay, only when "
        "the platform asks and never while paused. Connects outbound only.",
    )
    root.add_argument("--version", action="version", version=f"canvass-bridge {__version__}")
    root.add_argument(
        "--config",
        metavar="PATH",
        help="configuration file (default: $CANVASS_BRIDGE_CONFIG or "
        "/etc/canvass-bridge/config.toml)",
    )
    root.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")
    claim_command = commands.add_parser("claim", help="pair this device with the owner's site")
    claim_command.add_argument("code", help="the one-time claim code shown to the owner")
    claim_command.add_argument(
        "--replace", action="store_true", help="replace this device's existing pairing"
    )
    commands.add_parser("run", help="run the bridge (what the systemd service does)")
    commands.add_parser("pause", help="stop every stream now and refuse new ones")
    commands.add_parser("resume", help="end the pause")
    commands.add_parser("status", help="show the pairing, the pause and what is published")
    commands.add_parser("rotate", help="replace the device credential with a new one")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    logging_setup(verbose=arguments.verbose)
    try:
        config = load_config(config_path(arguments.config))
        state = DeviceState(config.state_dir)
        command = arguments.command
        if command == "claim":
            return claim_command(config, state, arguments.code, replace=arguments.replace)
        if command == "run":
            return run_command(config, state)
        if command in ("pause", "resume"):
            return pause_command(state, paused=command == "pause")
        if command == "status":
            return status_command(config, state)
        if command == "rotate":
            from canvass_bridge.bridge import rotate

            asyncio.run(
                _with_session(
                    config, lambda session: rotate(config=config, state=state, session=session)
                )
            )
            print("The device credential was replaced; the old one no longer works.")
            return EXIT_OK
    except (ConfigError, StateError, BridgeError, PortalError) as error:
        print(f"canvass-bridge: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    return EXIT_UNUSABLE


def claim_command(config: Config, state: DeviceState, code: str, *, replace: bool) -> int:
    from canvass_bridge.bridge import claim

    if state.credential() is not None and not replace:
        raise BridgeError(
            "This device is already claimed. To pair it again (after a revocation, or with "
            "another site), run `canvass-bridge claim --replace <CODE>`."
        )
    record = asyncio.run(
        _with_session(
            config, lambda session: claim(config=config, state=state, code=code, session=session)
        )
    )
    print(
        f"Claimed: this is device {record.device_id} of {config.portal_url}.\n"
        f"Its credential is in {state.credential_path} (readable by this user only).\n"
        "Next: the owner maps each channel to a camera in the portal; start the service with "
        "`systemctl enable --now canvass-bridge`."
    )
    return EXIT_OK


def run_command(config: Config, state: DeviceState) -> int:
    # Imported here: aiortc and FFmpeg take a second to load, and `pause` must not wait for it.
    from canvass_bridge.bridge import Bridge

    async def serve() -> int:
        bridge = Bridge(config, state)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, bridge.stop)
        return await bridge.run()

    return asyncio.run(serve())


def pause_command(state: DeviceState, *, paused: bool) -> int:
    state.pause_set(paused)
    if paused:
        print(
            "Paused: every stream stops within a second and none starts until "
            "`canvass-bridge resume`. The portal is told at once."
        )
    else:
        print("Resumed: cameras may be published again when the platform asks.")
    return EXIT_OK


def status_command(config: Config, state: DeviceState) -> int:
    device = state.device()
    lines = [f"portal:    {config.portal_url}"]
    if device is None or state.credential() is None:
        lines.append("pairing:   not claimed (run `canvass-bridge claim <CODE>`)")
    else:
        lines.append(
            f"pairing:   device {device.device_id} (credential in {state.credential_path})"
        )
        lines.append(f"relay:     {device.relay_url or 'none (live view is off in this city)'}")
    lines.append(f"pause:     {'PAUSED on the device' if state.paused() else 'not paused'}")
    for channel in config.channels:
        lines.append(f"channel:   {channel.key} ({channel.name}): {channel.source_for_log()}")
    status = state.status()
    if status:
        age = time.time() - float(status.get("updated_at", 0))
        heartbeat = status.get("last_heartbeat") or {}
        if heartbeat:
            seconds = time.time() - float(heartbeat.get("at", 0))
            result = "ok" if heartbeat.get("ok") else f"failed: {heartbeat.get('error')}"
            lines.append(f"heartbeat: {seconds:.0f} s ago, {result}")
        lines.append(
            f"relay link: {'connected' if status.get('control_connected') else 'not connected'}"
        )
        publishing = status.get("publishing") or []
        lines.append(f"streaming: {', '.join(publishing) if publishing else 'nothing'}")
        if status.get("revoked"):
            lines.append("REVOKED:   the portal refused the credential; claim again")
        lines.append(f"(as the service saw it {age:.0f} s ago)")
    else:
        lines.append("service:   no status yet (is `canvass-bridge run` running?)")
    print("\n".join(lines))
    return EXIT_OK


async def _with_session(
    config: Config, action: Callable[[aiohttp.ClientSession], Awaitable[T]]
) -> T:
    async with client_session(config) as session:
        return await action(session)
