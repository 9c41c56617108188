"""Video through the relay: a viewer's WHEP read makes the relay ask the bridge to start, the
bridge's WHIP stream reaches the viewer as decoded frames, and the last viewer's leaving stops
it; nothing is asked of a bridge nobody watches."""

from __future__ import annotations

import asyncio

from tests.relay.conftest import CONCORD, World


def grant_concord(world: World) -> None:
    world.stub.device(CONCORD, "1", "cvd_one")
    world.stub.grant(CONCORD, "token-a", "7", "device/1/ch1")


def test_frames_reach_the_viewer_after_the_bridge_is_asked_to_start(run_relay) -> None:
    async def scenario(world: World) -> None:
        grant_concord(world)
        bridge = await world.bridge(CONCORD, "1", "cvd_one")
        viewer = await world.viewer(CONCORD, "7", "token-a")
        assert viewer.status == 201
        assert viewer.location.startswith("/whep/resource/")
        assert bridge.sent("start") == [{"type": "start", "channel": "ch1"}]
        assert bridge.publish_statuses == [201]
        await viewer.wait_frames(10)
        assert viewer.widths == {640}
        assert world.hub.stats()["publishers"] == 1

    run_relay(scenario)


def test_the_last_viewer_leaving_stops_the_bridge_after_a_linger(run_relay) -> None:
    async def scenario(world: World) -> None:
        grant_concord(world)
        bridge = await world.bridge(CONCORD, "1", "cvd_one")
        first = await world.viewer(CONCORD, "7", "token-a")
        second = await world.viewer(CONCORD, "7", "token-a")
        await second.wait_frames(3)
        assert len(bridge.sent("start")) == 1  # the second viewer shares the first's stream
        assert await first.leave() == 200
        await asyncio.sleep(0.8)
        assert bridge.sent("stop") == []  # one viewer still watches
        assert await second.leave() == 200
        await asyncio.sleep(0.3)
        assert bridge.sent("stop") == []  # lingering: a viewer reopening reuses the stream
        await asyncio.sleep(1.2)
        assert bridge.sent("stop") == [{"type": "stop", "channel": "ch1"}]
        assert world.hub.stats()["publishers"] == 0
        assert world.hub.channels == {}

    run_relay(scenario, linger=1.0)


def test_a_bridge_nobody_watches_is_never_asked_to_start(run_relay) -> None:
    async def scenario(world: World) -> None:
        grant_concord(world)
        bridge = await world.bridge(CONCORD, "1", "cvd_one")
        await asyncio.sleep(2.5)  # two watchdog rounds
        assert bridge.messages == []
        assert world.hub.stats()["controls"] == 1
        assert world.stub.actions("publish") == []

    run_relay(scenario)


def test_a_camera_whose_bridge_is_not_connected_is_offline(run_relay) -> None:
    async def scenario(world: World) -> None:
        grant_concord(world)
        viewer = await world.viewer(CONCORD, "7", "token-a")
        assert viewer.status == 503
        assert viewer.answer == {"error": "camera offline"}
        assert world.hub.channels == {}

    run_relay(scenario)


def test_a_bridge_that_does_not_publish_in_time_is_offline_and_told_to_stop(run_relay) -> None:
    async def scenario(world: World) -> None:
        grant_concord(world)
        bridge = await world.bridge(CONCORD, "1", "cvd_one", publishes=False)
        viewer = await world.viewer(CONCORD, "7", "token-a")
        assert viewer.status == 503
        assert viewer.answer == {"error": "camera offline"}
        await asyncio.sleep(0.1)
        assert [m["type"] for m in bridge.messages] == ["start", "stop"]

    run_relay(scenario, start_timeout=1.0)


def test_a_bridge_that_reconnects_is_asked_again_for_the_channel_a_viewer_waits_for(
    run_relay,
) -> None:
    async def scenario(world: World) -> None:
        grant_concord(world)
        stale = await world.bridge(CONCORD, "1", "cvd_one", publishes=False)
        opening = asyncio.create_task(world.viewer(CONCORD, "7", "token-a"))
        await asyncio.sleep(0.5)
        assert stale.sent("start") == [{"type": "start", "channel": "ch1"}]
        bridge = await world.bridge(CONCORD, "1", "cvd_one")  # the same device, reconnected
        viewer = await opening
        assert viewer.status == 201
        assert bridge.sent("start") == [{"type": "start", "channel": "ch1"}]
        await viewer.wait_frames(3)
        assert world.hub.stats()["controls"] == 1

    run_relay(scenario)
