"""Live view end to end on the real media path: a Canvass bridge process whose camera is an
FFmpeg test pattern, the media relay process (aiortc), Canvass's /media/auth in the live server,
and headless Chromium playing the picture in the department console.

What the issue requires, each shown here: frames decode (the video's time advances); the bridge
pushes nothing while no grant exists; the owner's pause, the grant's expiry and the viewer's
deactivation each stop the picture within 2 seconds, at the relay (a second peer connection
opened with the same media token, which no page script closes, stops receiving frames); the
browser's media token is refused for another camera and on another city's host.

It runs in Little Rock with committed rows (the browser fixtures' rules): accounts on the
browser domain are deleted afterwards, grants first (they protect their staff member)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.models import Grant
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, StaffMember
from tests.browser.conftest import EMAIL_DOMAIN, ROOT
from tests.conftest import TOTP_SECRET, totp_now
from tests.liveview.grant_fixtures import LiveCamera, live_camera

PASSWORD = "a-live-viewers-passphrase"
VIEWER = f"rita.rtcc@{EMAIL_DOMAIN}"
ADMIN = f"amos.admin@{EMAIL_DOMAIN}"
OWNER = f"olive.owner@{EMAIL_DOMAIN}"
LITTLE_ROCK = (34.7465, -92.2896)
# Small frames: the suite runs on two cores beside everything else.
PATTERN = "lavfi:testsrc=size=640x360:rate=15"
# The relay and the bridge run from this checkout, installed or not.
PYTHONPATH = os.pathsep.join([str(ROOT / "platform"), str(ROOT / "bridge")])


# Each relay process's log (its base URL -> file): what it did, in its own words.
RELAY_LOGS: dict[str, Path] = {}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition, timeout: float, what: str, every: float = 0.1) -> float:
    """Seconds until `condition()` held; fails after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture(scope="session")
def relay(live_url: str) -> Iterator[str]:
    """The media relay as its own process (python -m relay), asking the live server."""
    canvass_port = re.search(r":(\d+)$", live_url).group(1)
    port = free_port()
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"canvass-relay-{port}.log"
    RELAY_LOGS[f"http://127.0.0.1:{port}"] = log_path
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "relay",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--canvass-url",
            f"http://127.0.0.1:{canvass_port}",
        ],
        cwd=ROOT,
        env={**os.environ, "MEDIA_AUTH_KEY": settings.MEDIA_AUTH_KEY, "PYTHONPATH": PYTHONPATH},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_until(lambda: relay_stats(f"http://127.0.0.1:{port}") is not None, 20, "relay up", 0.2)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)
    log.close()


def relay_stats(relay_base: str) -> dict[str, int] | None:
    try:
        with urllib.request.urlopen(f"{relay_base}/healthz", timeout=1) as answer:
            return json.loads(answer.read())
    except OSError:
        return None


@dataclass
class World:
    live: LiveCamera
    viewer: StaffMember
    admin: StaffMember


@pytest.fixture
def world(committed_db: None) -> Iterator[World]:
    with schema_context("littlerock"):
        users = get_user_model().objects
        members = {}
        for email, role in ((VIEWER, "operator"), (ADMIN, "administrator")):
            user = users.create_user(username=email, email=email, password=PASSWORD)
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            TOTP.activate(user, TOTP_SECRET)
            members[role] = StaffMember.objects.create(user=user, role=role)
        live = live_camera(email=OWNER, latitude=LITTLE_ROCK[0], longitude=LITTLE_ROCK[1])
    yield World(live, members["operator"], members["administrator"])
    with schema_context("littlerock"):
        Grant.objects.filter(staff__user__email__endswith=f"@{EMAIL_DOMAIN}").delete()


@pytest.fixture
def bridge(world: World, live_url: str, relay: str, tmp_path: Path) -> Iterator[None]:
    """The Canvass bridge (python -m canvass_bridge run) for the world's device, its channel a
    test pattern; the device's credential written where the bridge keeps it."""
    from canvass_bridge.state import DeviceRecord, DeviceState

    portal = live_url.format(city="littlerock")
    state = DeviceState(tmp_path / "state")
    state.credential_store(world.live.credential)
    state.device_store(DeviceRecord(world.live.device.pk, portal, None, 30))
    config = tmp_path / "config.toml"
    config.write_text(
        f'portal_url = "{portal}"\nstate_dir = "{tmp_path / "state"}"\n'
        'connect_host = "127.0.0.1"\n\n'
        f'[[channels]]\nkey = "{world.live.channel.key}"\nname = "Porch"\nsource = "{PATTERN}"\n'
    )
    log = (tmp_path / "bridge.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "canvass_bridge", "--config", str(config), "run"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": PYTHONPATH},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: (relay_stats(relay) or {}).get("controls", 0) >= 1, 20, "bridge up")
        yield
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def sign_in(page, base: str, email: str) -> None:
    page.goto(base + "/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now())
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/2fa/" not in url)


def video_time(page) -> float:
    return float(
        page.evaluate(
            "(() => { const v = document.querySelector('#live-video');"
            " return v ? v.currentTime : 0; })()"
        )
    )


# A second viewer of the same grant, opened by the test with the page's own media token: no
# page script watches the grant for it, so only the relay can stop its frames.
PROBE_OPEN = """async () => {
  const root = document.getElementById('live-viewer');
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', {direction: 'recvonly'});
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(done => {
    if (pc.iceGatheringState === 'complete') { done(); return; }
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') { done(); }
    });
    setTimeout(done, 2000);
  });
  const answer = await fetch(root.dataset.relay.replace(/\\/$/, '') + '/whep/camera/'
      + root.dataset.camera, {method: 'POST', body: pc.localDescription.sdp,
      headers: {'Content-Type': 'application/sdp', 'Authorization': 'Bearer '
      + root.dataset.token}});
  if (answer.status !== 201) { return answer.status; }
  await pc.setRemoteDescription({type: 'answer', sdp: await answer.text()});
  window.canvassProbe = pc;
  return 201;
}"""
PROBE_FRAMES = """async () => {
  let frames = 0;
  (await window.canvassProbe.getStats()).forEach(report => {
    if (report.type === 'inbound-rtp' && report.kind === 'video') {
      frames = report.framesReceived || report.packetsReceived || 0;
    }
  });
  return frames;
}"""


def probe_frames(page) -> int:
    return int(page.evaluate(PROBE_FRAMES))


def seconds_until_frames_stop(page, since: float, quiet: float = 1.0, timeout: float = 8) -> float:
    """When the probe last received a frame, in seconds after `since` (a monotonic time):
    frames stopped once none arrived for `quiet` seconds."""
    last, last_change = probe_frames(page), time.monotonic()
    while time.monotonic() - since < timeout:
        time.sleep(0.05)
        now = probe_frames(page)
        if now != last:
            last, last_change = now, time.monotonic()
        elif time.monotonic() - last_change >= quiet:
            return max(0.0, last_change - since)
    raise AssertionError(f"frames still arriving {timeout} s after the end")


def open_from_the_console(page, base: str, world: World) -> None:
    page.goto(f"{base}/department/live/")
    page.locator(f"a[href^='/department/live/cameras/{world.live.camera.pk}/open/']").click()
    page.select_option("select[name=reason]", "crime_in_progress")
    page.fill("input[name=case_number]", "LRPD-E2E-1")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/department/live/grants/\d+/$"))


def playing(page) -> None:
    """The picture plays: the video's time advances, and the probe receives frames too."""
    wait_until(lambda: video_time(page) > 0, 10, "first frame")
    first = video_time(page)
    wait_until(lambda: video_time(page) > first + 0.5, 5, "the video's time advancing")
    assert page.evaluate(PROBE_OPEN) == 201
    wait_until(lambda: probe_frames(page) > 10, 10, "frames at the probe")


def grant_of(world: World) -> Grant:
    with schema_context("littlerock"):
        return Grant.objects.filter(staff=world.viewer).latest("opened_at")


@pytest.fixture
def relay_on(settings, relay: str) -> str:
    port = relay.rsplit(":", 1)[1]
    settings.MEDIA_RELAY_URL = f"http://{{host}}:{port}"
    return relay


def test_the_bridge_pushes_nothing_until_a_grant_and_the_picture_plays(
    page, live_url, world, relay_on, bridge
):
    base = live_url.format(city="littlerock")
    # Connected and heartbeating, but nothing published: nobody holds a grant.
    time.sleep(2)
    assert relay_stats(relay_on)["publishers"] == 0
    sign_in(page, base, VIEWER)
    open_from_the_console(page, base, world)
    playing(page)
    assert relay_stats(relay_on)["publishers"] == 1
    with schema_context("littlerock"):
        opened = AuditEntry.objects.filter(
            action=AuditEntry.Action.LIVE_FEED, actor_email=VIEWER, case_number="LRPD-E2E-1"
        )
        assert opened.count() == 1


def test_the_owners_pause_stops_the_picture_within_two_seconds(
    page, live_url, world, relay_on, bridge
):
    from portal.liveview.owner import live_pause_set

    base = live_url.format(city="littlerock")
    sign_in(page, base, VIEWER)
    open_from_the_console(page, base, world)
    playing(page)
    participant = world.live.site.participant
    paused_at = time.monotonic()
    with schema_context("littlerock"):
        live_pause_set(
            actor=Actor.of_participant(participant, "127.0.0.1"),
            participant=participant,
            paused=True,
        )
    assert seconds_until_frames_stop(page, paused_at) < 2.0
    # The bridge is told to stop too: nothing is published without a grant.
    wait_until(lambda: relay_stats(relay_on)["publishers"] == 0, 6, "the bridge stopping")
    assert grant_of(world).ended_why == Grant.Ended.OWNER_PAUSED


def test_the_grants_expiry_stops_the_picture_within_two_seconds(
    page, live_url, world, relay_on, bridge
):
    base = live_url.format(city="littlerock")
    sign_in(page, base, VIEWER)
    open_from_the_console(page, base, world)
    playing(page)
    grant = grant_of(world)
    with schema_context("littlerock"):
        Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() + timedelta(seconds=2))
    expires_at = time.monotonic() + 2
    wait_until(lambda: time.monotonic() >= expires_at, 3, "expiry")
    assert seconds_until_frames_stop(page, expires_at) < 2.0
    assert grant_of(world).ended_why == Grant.Ended.EXPIRED


def test_deactivating_the_viewer_stops_the_picture_within_two_seconds(
    page, live_url, world, relay_on, bridge
):
    from portal.department.services import staff_deactivate

    base = live_url.format(city="littlerock")
    sign_in(page, base, VIEWER)
    open_from_the_console(page, base, world)
    playing(page)
    deactivated_at = time.monotonic()
    with schema_context("littlerock"):
        staff_deactivate(actor=Actor.of_staff(world.admin, "127.0.0.1"), member=world.viewer)
    assert seconds_until_frames_stop(page, deactivated_at) < 2.0
    assert grant_of(world).ended_why == Grant.Ended.DEACTIVATED


OFFER = """async () => {
  const pc = new RTCPeerConnection();
  pc.addTransceiver('video', {direction: 'recvonly'});
  await pc.setLocalDescription(await pc.createOffer());
  const sdp = pc.localDescription.sdp;
  pc.close();
  return sdp;
}"""


def whep_status(relay_base: str, host: str, camera_id: int, token: str, offer: str) -> int:
    """The relay's answer to a WHEP offer (made by Chromium), sent with the given Host."""
    request = urllib.request.Request(
        f"{relay_base}/whep/camera/{camera_id}",
        data=offer.encode(),
        method="POST",
        headers={
            "Host": host,
            "Content-Type": "application/sdp",
            "Authorization": f"Bearer {token}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_a_media_token_is_refused_for_another_camera_and_on_another_citys_host(
    page, live_url, world, relay_on, bridge
):
    base = live_url.format(city="littlerock")
    sign_in(page, base, VIEWER)
    open_from_the_console(page, base, world)
    playing(page)
    token = page.get_attribute("#live-viewer", "data-token")
    offer = page.evaluate(OFFER)
    camera = world.live.camera.pk
    port = relay_on.rsplit(":", 1)[1]
    # Carrollton has a shared camera with the same id, on a device that is online: the token
    # is still Little Rock's alone.
    with schema_context("carrollton"):
        twin = live_camera(email=f"twin.owner@{EMAIL_DOMAIN}", camera_id=camera)
        assert twin.camera.pk == camera
    assert whep_status(relay_on, f"carrollton.localhost:{port}", camera, token, offer) == 401
    assert whep_status(relay_on, f"littlerock.localhost:{port}", camera + 1, token, offer) == 403
    assert whep_status(relay_on, f"littlerock.localhost:{port}", camera, "", offer) == 401


def test_a_camera_whose_bridge_is_not_connected_is_said_plainly_in_the_viewers_language(
    browser, live_url, world, relay_on
):
    from playwright.sync_api import expect

    context = browser.new_context(locale="es-ES")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        base = live_url.format(city="littlerock")
        sign_in(page, base, VIEWER)
        open_from_the_console(page, base, world)
        expect(page.locator("#live-message")).to_contain_text(
            "El dispositivo de la cámara no está conectado", timeout=10_000
        )
        assert video_time(page) == 0
    finally:
        context.close()


def test_the_map_marks_the_shared_camera_and_opens_it_with_a_reason(page, live_url, world):
    from playwright.sync_api import expect

    base = live_url.format(city="littlerock")
    sign_in(page, base, VIEWER)
    page.goto(f"{base}/department/map/")
    marker = page.locator(".live-marker", has_text="LIVE")
    expect(marker.first).to_be_visible()
    marker.first.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(world.live.camera.label)
    popup.get_by_role("link", name="Open live view").click()
    page.wait_for_url(re.compile(rf"/department/live/cameras/{world.live.camera.pk}/open/"))


def test_leaving_the_viewer_page_ends_its_stream_at_the_relay_at_once(
    page, live_url, world, relay_on, bridge
):
    base = live_url.format(city="littlerock")
    sign_in(page, base, VIEWER)
    open_from_the_console(page, base, world)
    wait_until(lambda: video_time(page) > 0, 10, "first frame")
    assert relay_stats(relay_on)["viewers"] == 1
    log = RELAY_LOGS[relay_on]
    before = log.stat().st_size
    page.goto(f"{base}/department/")  # the grant stays open; the page said it is leaving
    wait_until(lambda: relay_stats(relay_on)["viewers"] == 0, 2, "the relay letting go")

    def written() -> bytes:
        with log.open("rb") as lines:
            lines.seek(before)
            return lines.read()

    # Ended by the page as it left: its DELETE (kept alive past the page), or the browser
    # closing the peer connection as it unloads the page, whichever reaches the relay first;
    # not the connection failing after a timeout ("connection failed").
    wait_until(lambda: b"closed: " in written(), 2, "the relay's line on the viewer closed")
    assert re.search(rb"closed: (the viewer left|connection closed)", written()), written()
    assert grant_of(world).ended_at is None
