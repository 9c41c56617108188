"""The heartbeat tells the portal the device's channels and its pause; the portal's answer
names the relay and may ask for a new credential; a refused credential stops everything."""

from __future__ import annotations

import asyncio
import itertools
import stat

from canvass_bridge import __version__
from canvass_bridge.errors import EXIT_REVOKED
from tests.bridge.conftest import RunningBridge, credential_new, eventually, run


def test_the_heartbeat_carries_the_channels_and_the_pause(config, state, stubs):
    async def scenario() -> None:
        async with RunningBridge(config, state):
            await eventually(lambda: stubs.portal.heartbeats != [], within=5)

    run(scenario)
    assert stubs.portal.heartbeats[0] == {
        "channels": [{"key": "front", "name": "Front door"}, {"key": "yard", "name": "Back yard"}],
        "paused": False,
        "bridge_version": __version__,
    }


def test_heartbeats_come_at_the_interval_the_portal_asks_for(config, state, stubs):
    stubs.portal.heartbeat_seconds = 1

    async def scenario() -> None:
        async with RunningBridge(config, state):
            await eventually(lambda: len(stubs.portal.heartbeats) >= 3, within=4)

    run(scenario)
    times = stubs.portal.heartbeat_times
    assert all(0.8 < later - earlier < 1.5 for earlier, later in itertools.pairwise(times))


def test_a_revoked_credential_stops_every_stream_and_the_bridge(config, state, stubs, caplog):
    stubs.portal.heartbeat_seconds = 1

    async def scenario() -> None:
        running = RunningBridge(config, state)
        bridge = await running.__aenter__()
        await eventually(lambda: stubs.relay.hellos != [], within=5)
        await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
        await eventually(lambda: 1 in stubs.relay.publishers, within=5)
        publisher = stubs.relay.publishers[1]
        await eventually(lambda: publisher.frames >= 3, within=8)

        stubs.portal.revoked = True
        assert await running.exit_code() == EXIT_REVOKED
        assert bridge.publications == {}
        frames = publisher.frames
        await asyncio.sleep(0.5)
        assert publisher.frames == frames
        assert state.status()["revoked"] is True

    run(scenario)
    assert "revoked" in caplog.text
    assert stubs.portal.credential not in caplog.text


def test_the_bridge_replaces_its_credential_when_the_portal_asks(config, state, stubs, caplog):
    stubs.portal.heartbeat_seconds = 1
    stubs.portal.rotate_next = True

    async def scenario() -> None:
        async with RunningBridge(config, state):
            await eventually(lambda: stubs.portal.rotations == 1, within=5)
            await eventually(lambda: state.credential() == credential_new(2), within=2)
            # The old credential no longer works; the next heartbeat and the control
            # connection use the new one.
            count = len(stubs.portal.heartbeats)
            await eventually(lambda: len(stubs.portal.heartbeats) > count, within=3)
            await eventually(lambda: stubs.relay.control_connections >= 2, within=3)

    run(scenario)
    assert stat.S_IMODE(state.credential_path.stat().st_mode) == 0o600
    assert credential_new(1) not in caplog.text
    assert credential_new(2) not in caplog.text


def test_a_portal_that_cannot_be_reached_is_retried(config, state, stubs, caplog):
    async def scenario() -> None:
        stubs.portal.heartbeat_seconds = 1
        running = RunningBridge(config, state)
        # Nothing listens on the claimed portal's port for a moment.
        await stubs.acall(stubs.runners[0].cleanup())
        async with running:
            await eventually(lambda: caplog.text.count("heartbeat failed") >= 3, within=5)
            assert stubs.portal.heartbeats == []
            assert not running.task.done()

    run(scenario)
