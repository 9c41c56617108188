"""Live view interrupted (issue 16, point 6), in Chromium on the real media path: the bridge
process killed, or the relay process killed, while the console's viewer plays. The page says
"stream interrupted" (in the viewer's language, in a polite live region), opens the stream
again by itself while the grant has time left, and says the picture is back once frames flow;
once the grant has ended it stops and opens nothing more.

The relay and the bridge here are this module's own processes (the other live view tests share
a relay for the session; these kill theirs)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.models import Grant
from tests.browser.conftest import ROOT
from tests.browser.test_live_view import (  # noqa: F401 (world is a fixture)
    PATTERN,
    PYTHONPATH,
    VIEWER,
    World,
    free_port,
    open_from_the_console,
    relay_stats,
    sign_in,
    video_time,
    wait_until,
    world,
)


@dataclass
class Processes:
    """This test's relay and bridge, each killed and started again at will."""

    canvass_port: str
    relay_port: int
    folder: Path
    world: World
    relay: subprocess.Popen[bytes] | None = None
    bridge: subprocess.Popen[bytes] | None = None

    @property
    def relay_base(self) -> str:
        return f"http://127.0.0.1:{self.relay_port}"

    def relay_start(self) -> None:
        self.relay = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "relay",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.relay_port),
                "--canvass-url",
                f"http://127.0.0.1:{self.canvass_port}",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "MEDIA_AUTH_KEY": django_settings.MEDIA_AUTH_KEY,
                "PYTHONPATH": PYTHONPATH,
            },
            stdout=(self.folder / "relay.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: relay_stats(self.relay_base) is not None, 20, "relay up", 0.2)

    def bridge_start(self) -> None:
        from canvass_bridge.state import DeviceRecord, DeviceState

        portal = f"http://littlerock.localhost:{self.canvass_port}"
        state = DeviceState(self.folder / "state")
        state.credential_store(self.world.live.credential)
        state.device_store(DeviceRecord(self.world.live.device.pk, portal, None, 30))
        config = self.folder / "config.toml"
        config.write_text(
            f'portal_url = "{portal}"\nstate_dir = "{self.folder / "state"}"\n'
            'connect_host = "127.0.0.1"\n\n'
            f'[[channels]]\nkey = "{self.world.live.channel.key}"\nname = "Porch"\n'
            f'source = "{PATTERN}"\n'
        )
        self.bridge = subprocess.Popen(
            [sys.executable, "-m", "canvass_bridge", "--config", str(config), "run"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": PYTHONPATH},
            stdout=(self.folder / "bridge.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_until(
            lambda: (relay_stats(self.relay_base) or {}).get("controls", 0) >= 1,
            60,
            "bridge connected",
        )

    @staticmethod
    def kill(process: subprocess.Popen[bytes] | None) -> None:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)

    def relay_log(self) -> str:
        return (self.folder / "relay.log").read_text(errors="replace")

    def viewers_opened(self) -> int:
        """The viewers the relay served (its "viewer of camera/<id> on <host>" lines)."""
        return len(re.findall(r"viewer of camera/\S+ on \S+$", self.relay_log(), re.M))


@pytest.fixture
def processes(settings, live_url: str, world: World, tmp_path: Path) -> Iterator[Processes]:  # noqa: F811
    canvass_port = re.search(r":(\d+)$", live_url).group(1)  # type: ignore[union-attr]
    running = Processes(canvass_port, free_port(), tmp_path, world)
    settings.MEDIA_RELAY_URL = f"http://{{host}}:{running.relay_port}"
    running.relay_start()
    running.bridge_start()
    try:
        yield running
    finally:
        for process in (running.bridge, running.relay):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)


def advancing(page, timeout: float = 30) -> None:
    """Frames flow: the video's time moves on."""
    wait_until(lambda: video_time(page) > 0, timeout, f"first frame ({message(page)!r})")
    first = video_time(page)
    wait_until(lambda: video_time(page) > first + 0.5, timeout, "the video's time advancing")


def signed_in(page, base: str) -> None:
    """sign_in, saying what the page said when it did not get through."""
    try:
        sign_in(page, base, VIEWER)
    except Exception as error:
        text = page.locator("main").inner_text(timeout=2000)
        raise AssertionError(f"sign-in failed at {page.url}: {text[:500]}") from error


def message(page) -> str:
    return str(page.locator("#live-message").text_content() or "")


def test_the_bridge_killed_says_stream_interrupted_and_the_picture_comes_back(
    page,
    live_url,
    world,  # noqa: F811
    processes,
):
    base = live_url.format(city="littlerock")
    signed_in(page, base)
    open_from_the_console(page, base, world)
    advancing(page)
    assert page.locator("#live-message").get_attribute("aria-live") == "polite"
    processes.kill(processes.bridge)
    wait_until(lambda: "Stream interrupted" in message(page), 15, "stream interrupted said")
    processes.bridge_start()
    wait_until(lambda: message(page) == "The picture is back.", 60, "the picture back said")
    advancing(page)
    assert relay_stats(processes.relay_base)["viewers"] == 1


def test_the_relay_restarted_says_it_in_spanish_and_the_picture_comes_back(
    browser,
    live_url,
    world,  # noqa: F811
    processes,
):
    context = browser.new_context(locale="es-ES")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        base = live_url.format(city="littlerock")
        signed_in(page, base)
        open_from_the_console(page, base, world)
        advancing(page)
        processes.kill(processes.relay)
        wait_until(
            lambda: "Transmisión interrumpida" in message(page), 15, "interrupted, in Spanish"
        )
        time.sleep(2)  # the page keeps trying while the relay is away
        processes.relay_start()
        wait_until(lambda: message(page) == "La imagen volvió.", 60, "back, in Spanish")
        advancing(page)
    finally:
        context.close()


def test_an_interruption_that_outlasts_the_grant_stops_at_its_end_without_reconnecting(
    page,
    live_url,
    world,  # noqa: F811
    processes,
):
    base = live_url.format(city="littlerock")
    signed_in(page, base)
    open_from_the_console(page, base, world)
    advancing(page)
    with schema_context("littlerock"):
        grant = Grant.objects.filter(staff=world.viewer).latest("opened_at")
        Grant.objects.filter(pk=grant.pk).update(expires_at=timezone.now() + timedelta(seconds=8))
    processes.kill(processes.bridge)
    wait_until(lambda: "Stream interrupted" in message(page), 15, "stream interrupted said")
    wait_until(lambda: "This live view has ended" in message(page), 20, "the grant's end said")
    assert "Time limit reached" in message(page)
    viewers_opened = processes.viewers_opened()
    processes.bridge_start()
    time.sleep(5)  # the page would have opened again by now
    assert processes.viewers_opened() == viewers_opened
    assert relay_stats(processes.relay_base)["viewers"] == 0
    assert page.locator("#live-video").get_attribute("hidden") is not None
