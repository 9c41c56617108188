"""Live view in the demo: two of Little Rock's integrated sites (Sam's corner market, always
shared; a home shared in emergencies only) get a paired device whose channels are FFmpeg test
patterns with a running clock, and `manage.py demo --serve` runs the media relay and those two
simulated bridges beside the web server. Everything goes through the real services (claim code,
pairing, heartbeat, channel mapping, sharing) and, once served, the real device API and relay."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from portal.liveview.devices import (
    ReportedChannel,
    channel_map,
    claim_code_issue,
    device_claim,
    device_heartbeat,
)
from portal.liveview.models import Channel, Device, Sharing
from portal.liveview.owner import sharing_set
from portal.registry.audit import Actor
from portal.registry.models import Site
from tenants.demo import DemoProcess, DemoServices
from tenants.models import Department

DEMO_CITY = "littlerock"
RELAY_PORT = 8890
# The test pattern at 720p with its frame clock (FFmpeg's testsrc draws a running timestamp).
PATTERN = "lavfi:testsrc=size=1280x720:rate=15"


@dataclass(frozen=True)
class DemoBridge:
    """One simulated bridge: the site it serves and how its owner shares."""

    name: str
    site: Site
    mode: str


def bridges_folder() -> Path:
    return Path(settings.BASE_DIR) / ".data" / "demo-bridges"


def live_view_missing() -> str | None:
    """Why live view cannot run on this machine, or None: the relay and the bridge need aiortc
    and PyAV (FFmpeg inside), both installed by `make install`."""
    for module in ("aiortc", "av", "aiohttp", "canvass_bridge"):
        if importlib.util.find_spec(module) is None:
            return f"the Python package {module} is not installed (make install)"
    return None


def _demo_bridges() -> list[DemoBridge]:
    integrated = Site.objects.filter(participation=Site.Participation.INTEGRATED).order_by("pk")
    sam = integrated.filter(participant__user__email__startswith="sam@").first()
    home = integrated.filter(kind=Site.Kind.HOME, cameras__isnull=False).first()
    bridges = []
    if sam is not None:
        bridges.append(DemoBridge(f"{DEMO_CITY}-market", sam, Sharing.Mode.ALWAYS))
    if home is not None:
        bridges.append(DemoBridge(f"{DEMO_CITY}-home", home, Sharing.Mode.EMERGENCIES))
    return bridges


def _state_store(folder: Path, device: Device, credential: str, portal_url: str) -> None:
    """The credential and pairing record where the bridge keeps them (its own state code)."""
    from canvass_bridge.state import DeviceRecord, DeviceState

    state = DeviceState(folder / "state")
    state.credential_store(credential)
    state.device_store(DeviceRecord(device.pk, portal_url, None, 30))


def _paired(bridge: DemoBridge, folder: Path) -> bool:
    credential = folder / "state" / "credential"
    return (
        credential.exists()
        and Device.objects.filter(site=bridge.site, revoked_at__isnull=True).exists()
    )


def live_seed(department: Department) -> list[str]:
    """Pair the demo bridges' devices with their sites, once (again if their state is gone)."""
    if department.schema_name != DEMO_CITY or live_view_missing():
        return []
    lines = []
    for bridge in _demo_bridges():
        folder = bridges_folder() / bridge.name
        if not _paired(bridge, folder):
            _pair(bridge, folder, department)
        lines.append(
            f"live view: {bridge.site.address} has a simulated bridge "
            f"({bridge.site.cameras.count()} test-pattern cameras, shared "
            f"{Sharing.Mode(bridge.mode).label.lower()})"
        )
    return lines


def _pair(bridge: DemoBridge, folder: Path, department: Department) -> None:
    owner = Actor.of_participant(bridge.site.participant, "127.0.0.1")
    # A device paired before (its state folder since deleted) is replaced.
    Device.objects.filter(site=bridge.site, revoked_at__isnull=True).delete()
    code = claim_code_issue(actor=owner, site=bridge.site)
    device, credential = device_claim(
        code=code, bridge_version="demo", hostname=bridge.name, ip_address="127.0.0.1"
    )
    cameras = list(bridge.site.cameras.order_by("pk"))
    device_heartbeat(
        device=device,
        channels=[
            ReportedChannel(f"cam{index + 1}", camera.label) for index, camera in enumerate(cameras)
        ],
        paused=False,
        bridge_version="demo",
        ip_address="127.0.0.1",
    )
    for index, camera in enumerate(cameras):
        channel = Channel.objects.get(device=device, key=f"cam{index + 1}")
        channel_map(actor=owner, channel=channel, camera=camera)
        sharing_set(actor=owner, camera=camera, mode=bridge.mode, schedule=[])
    _state_store(folder, device, credential, department.url(""))
    (folder / "channels.txt").write_text(
        "\n".join(f"cam{index + 1}" for index in range(len(cameras))) + "\n"
    )


def _config_write(folder: Path, portal_url: str, channels: list[str]) -> Path:
    lines = [
        "# Written by `manage.py demo --serve`: a simulated bridge with test-pattern cameras.",
        f'portal_url = "{portal_url}"',
        f'state_dir = "{folder / "state"}"',
        # The demo's hosts (littlerock.localhost) are not in the system's resolver.
        'connect_host = "127.0.0.1"',
    ]
    for key in channels:
        lines += [
            "",
            "[[channels]]",
            f'key = "{key}"',
            f'name = "Test pattern {key}"',
            f'source = "{PATTERN}"',
        ]
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def live_services(port: int) -> DemoServices:
    """The relay and the simulated bridges, or a plain line saying why live view is off."""
    missing = live_view_missing()
    if missing:
        return DemoServices(lines=[f"  Live view    off: {missing}"])
    relay = f"http://{{host}}:{RELAY_PORT}"
    services = DemoServices(
        processes=[
            DemoProcess(
                "relay",
                [
                    sys.executable,
                    "-m",
                    "relay",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(RELAY_PORT),
                    "--canvass-url",
                    f"http://127.0.0.1:{port}",
                ],
                {"MEDIA_AUTH_KEY": settings.MEDIA_AUTH_KEY},
            )
        ],
        web_environment={
            "MEDIA_RELAY_URL": relay,
            "MEDIA_RELAY_CANVASS_URL": f"http://127.0.0.1:{port}",
            "MEDIA_AUTH_KEY": settings.MEDIA_AUTH_KEY,
        },
    )
    folders = sorted(path for path in bridges_folder().glob(f"{DEMO_CITY}-*") if path.is_dir())
    portal_url = f"http://{DEMO_CITY}.{settings.CANVASS_BASE_DOMAIN}:{port}"
    for folder in folders:
        keys = (folder / "channels.txt").read_text().split()
        config = _config_write(folder, portal_url, keys)
        services.processes.append(
            DemoProcess(
                f"bridge-{folder.name}",
                [sys.executable, "-m", "canvass_bridge", "--config", str(config), "run"],
            )
        )
    services.lines += [
        f"  Live view    relay on port {RELAY_PORT}, {len(folders)} simulated bridges in "
        "Little Rock: sign in as its administrator, open Live cameras",
    ]
    return services
