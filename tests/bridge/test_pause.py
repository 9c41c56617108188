"""The pause switch on the device: every stream stops within a second, none starts while paused,
and the portal hears it at once (not at the next scheduled heartbeat)."""

from __future__ import annotations

import asyncio
import time

from tests.bridge.conftest import RunningBridge, cli, eventually, run


def test_pausing_stops_every_stream_within_a_second_and_the_portal_hears_it_at_once(
    config, config_file, state, stubs
):
    async def scenario() -> None:
        async with RunningBridge(config, state) as bridge:
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "yard"}))
            await eventually(lambda: len(stubs.relay.publishers) == 2, within=5)
            publishers = list(stubs.relay.publishers.values())
            await eventually(lambda: all(p.frames >= 3 for p in publishers), within=8)
            heartbeats = len(stubs.portal.heartbeats)

            # The owner's switch, as they type it on the box (a separate process).
            result = await asyncio.to_thread(cli, "pause", config_file=config_file)
            assert result.returncode == 0, result.stderr
            paused_at = time.monotonic()
            await eventually(lambda: bridge.publications == {}, within=1.0)
            await eventually(lambda: all(p.deleted for p in publishers), within=2)
            stopped_frames = [p.frames for p in publishers]
            await eventually(lambda: len(stubs.portal.heartbeats) > heartbeats, within=1.5)
            assert stubs.portal.heartbeats[-1]["paused"] is True
            # Heartbeats are every 30 s here: this one was sent because of the pause.
            assert stubs.portal.heartbeat_times[-1] - paused_at < 1.5
            await asyncio.sleep(0.5)
            assert [p.frames for p in publishers] == stopped_frames

            # Paused: a start changes nothing.
            posts = len(stubs.relay.whip_posts)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
            await asyncio.sleep(0.5)
            assert len(stubs.relay.whip_posts) == posts
            assert bridge.publications == {}

            result = await asyncio.to_thread(cli, "resume", config_file=config_file)
            assert result.returncode == 0, result.stderr
            await eventually(lambda: stubs.portal.heartbeats[-1]["paused"] is False, within=1.5)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
            await eventually(lambda: len(stubs.relay.whip_posts) == posts + 1, within=5)

    run(scenario, timeout=30)


def test_a_bridge_started_while_paused_says_so_in_its_first_heartbeat(config, state, stubs):
    state.pause_set(True)

    async def scenario() -> None:
        async with RunningBridge(config, state):
            await eventually(lambda: stubs.portal.heartbeats != [], within=5)
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
            await asyncio.sleep(0.5)
            assert stubs.relay.whip_posts == []

    run(scenario)
    assert stubs.portal.heartbeats[0]["paused"] is True


def test_a_pause_in_the_portal_stops_the_streams_here_too(config, state, stubs):
    stubs.portal.heartbeat_seconds = 1

    async def scenario() -> None:
        async with RunningBridge(config, state) as bridge:
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
            await eventually(lambda: "front" in bridge.publications, within=5)

            stubs.portal.owner_paused = True
            await eventually(lambda: bridge.publications == {}, within=2.5)
            await eventually(lambda: stubs.relay.publishers[1].deleted, within=2)
            # The device itself is not paused: the platform may ask again once the owner resumes.
            assert stubs.portal.heartbeats[-1]["paused"] is False

    run(scenario)
