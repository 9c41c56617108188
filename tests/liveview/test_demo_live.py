"""The demo's live view: after the registry and billing seeders, two of Little Rock's
integrated sites get a paired device (through the real claim code, pairing, heartbeat and
mapping services) whose channels are test patterns, shared always and in emergencies only; the
bridge's credential is written where the bridge keeps it, for the bridge alone; `demo --serve`
runs the relay and one bridge per paired device, or says why live view is off."""

from __future__ import annotations

import stat
import sys

import pytest
from django.conf import settings
from django_tenants.utils import tenant_context

from billing.demo import billing_seed
from portal.liveview import demo
from portal.liveview.models import Channel, Device, Sharing
from portal.liveview.rules import camera_live_state
from portal.registry.demo import registry_seed
from tenants.demo import DEMO_SEEDERS, DEMO_SERVICES
from tenants.models import Department

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "bridges_folder", lambda: tmp_path / "demo-bridges")
    return tmp_path / "demo-bridges"


def seeded(schema_name: str) -> tuple[Department, list[str]]:
    department = Department.objects.select_related("program").get(schema_name=schema_name)
    with tenant_context(department):
        registry_seed(department)
        billing_seed(department)
        lines = demo.live_seed(department)
    return department, lines


def test_the_live_seeder_runs_after_billings_and_serves_the_demo():
    assert DEMO_SEEDERS.index(billing_seed) < DEMO_SEEDERS.index(demo.live_seed)
    assert demo.live_services in DEMO_SERVICES


def test_two_little_rock_sites_get_a_paired_device_with_mapped_shared_cameras(folder):
    department, lines = seeded("littlerock")
    assert len(lines) == 2
    with tenant_context(department):
        devices = list(Device.objects.select_related("site").order_by("pk"))
        assert len(devices) == 2
        modes = set()
        for device in devices:
            channels = list(Channel.objects.filter(device=device).select_related("camera"))
            assert channels and all(
                channel.camera.site_id == device.site_id for channel in channels
            )
            for channel in channels:
                modes.add(channel.camera.sharing.mode)
                assert camera_live_state(channel.camera).shareable
        assert modes == {Sharing.Mode.ALWAYS, Sharing.Mode.EMERGENCIES}
    for name in ("littlerock-market", "littlerock-home"):
        credential = folder / name / "state" / "credential"
        assert credential.read_text().startswith("cvd_")
        assert stat.S_IMODE(credential.stat().st_mode) == 0o600


def test_seeding_again_keeps_the_paired_devices(folder):
    department, _lines = seeded("littlerock")
    with tenant_context(department):
        first = set(Device.objects.values_list("pk", flat=True))
        demo.live_seed(department)
        assert set(Device.objects.values_list("pk", flat=True)) == first


def test_other_cities_get_no_devices(folder):
    department, lines = seeded("carrollton")
    assert lines == []
    with tenant_context(department):
        assert not Device.objects.exists()


def test_serving_runs_the_relay_and_one_bridge_per_paired_device(folder):
    seeded("littlerock")
    services = demo.live_services(8000)
    names = [process.name for process in services.processes]
    assert names == ["relay", "bridge-littlerock-home", "bridge-littlerock-market"]
    assert services.web_environment["MEDIA_RELAY_URL"] == "http://{host}:8890"
    assert services.processes[0].environment["MEDIA_AUTH_KEY"] == settings.MEDIA_AUTH_KEY
    config = (folder / "littlerock-market" / "config.toml").read_text()
    assert 'portal_url = "http://littlerock.localhost:8000"' in config
    assert "lavfi:testsrc" in config


def test_without_the_media_packages_the_demo_says_live_view_is_off(folder, monkeypatch):
    monkeypatch.setitem(sys.modules, "aiortc", None)
    monkeypatch.setattr(demo.importlib.util, "find_spec", lambda name: None)
    services = demo.live_services(8000)
    assert services.processes == []
    assert services.lines and "off" in services.lines[0]
