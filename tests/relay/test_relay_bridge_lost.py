"""A bridge whose control socket closes without its streams being stopped (the process killed,
its network cut) loses its publishers at once, and their viewers with them, so that browsers
see the interruption and open again instead of freezing on a dead track until ICE consent
fails half a minute later. A bridge that reconnected meanwhile keeps its stream."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from tests.relay.conftest import CONCORD, World


def grant_concord(world: World) -> None:
    world.stub.device(CONCORD, "1", "cvd_one")
    world.stub.grant(CONCORD, "token-a", "7", "device/1/ch1")


async def eventually(check: Callable[[], bool], what: str, timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.05)


def test_a_bridge_whose_control_socket_drops_loses_its_publisher_and_viewers(run_relay) -> None:
    async def scenario(world: World) -> None:
        grant_concord(world)
        bridge = await world.bridge(CONCORD, "1", "cvd_one")
        viewer = await world.viewer(CONCORD, "7", "token-a")
        await viewer.wait_frames(5)
        assert bridge.socket is not None
        await bridge.socket.close()  # the socket only: its media connection is left as it was
        await eventually(lambda: world.hub.stats()["publishers"] == 0, "publisher closed")
        assert world.hub.stats()["viewers"] == 0
        assert world.hub.stats()["controls"] == 0
        # Opening again while the bridge is away: offline, at once (no dead track handed out).
        again = await world.viewer(CONCORD, "7", "token-a")
        assert again.status == 503

    run_relay(scenario)


def test_a_bridge_that_reconnected_keeps_its_stream_when_its_old_socket_closes(run_relay) -> None:
    async def scenario(world: World) -> None:
        grant_concord(world)
        old = await world.bridge(CONCORD, "1", "cvd_one", publishes=False)
        new = await world.bridge(CONCORD, "1", "cvd_one")  # replaces the old socket
        viewer = await world.viewer(CONCORD, "7", "token-a")
        await viewer.wait_frames(5)
        assert old.socket is not None and old.socket.closed  # the relay closed it
        await asyncio.sleep(0.3)
        assert world.hub.stats()["publishers"] == 1
        frames = viewer.frames
        await viewer.wait_frames(frames + 5)
        assert new.publish_statuses == [201]

    run_relay(scenario)
