"""The bridge publishes a channel only when the relay says "start", with WHIP; "stop", or the
relay closing the connection, stops it and deletes the WHIP resource."""

from __future__ import annotations

import asyncio

from tests.bridge.conftest import DEVICE_ID, RunningBridge, eventually, run


def test_nothing_is_published_before_the_relay_says_start(config, state, stubs):
    async def scenario() -> None:
        async with RunningBridge(config, state):
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            await asyncio.sleep(1.5)
            assert stubs.relay.whip_posts == []

    run(scenario)
    assert stubs.relay.hellos[0] == {
        "type": "hello",
        "version": stubs.relay.hellos[0]["version"],
        "channels": ["front", "yard"],
    }


def test_start_publishes_the_channel_and_frames_arrive(config, state, stubs):
    async def scenario() -> None:
        async with RunningBridge(config, state) as bridge:
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "yard"}))
            await eventually(lambda: 1 in stubs.relay.publishers, within=5)
            publisher = stubs.relay.publishers[1]
            await eventually(lambda: publisher.frames >= 10, within=8)
            assert list(bridge.publications) == ["yard"]

    run(scenario)
    assert stubs.relay.whip_posts == [f"device/{DEVICE_ID}/yard"]


def test_stop_ends_publishing_and_deletes_the_whip_resource(config, state, stubs):
    async def scenario() -> None:
        async with RunningBridge(config, state) as bridge:
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
            await eventually(lambda: 1 in stubs.relay.publishers, within=5)
            publisher = stubs.relay.publishers[1]
            await eventually(lambda: publisher.frames >= 5, within=8)

            await stubs.acall(stubs.relay.send({"type": "stop", "channel": "front"}))
            await eventually(lambda: publisher.deleted, within=2)
            assert bridge.publications == {}
            frames = publisher.frames
            await asyncio.sleep(0.5)
            assert publisher.frames == frames

    run(scenario)


def test_the_relay_closing_the_publisher_stops_it_and_it_does_not_come_back(config, state, stubs):
    async def scenario() -> None:
        async with RunningBridge(config, state) as bridge:
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
            await eventually(lambda: 1 in stubs.relay.publishers, within=5)
            await eventually(lambda: stubs.relay.publishers[1].frames >= 3, within=8)

            await stubs.acall(stubs.relay.close_publisher(1))
            await eventually(lambda: bridge.publications == {}, within=3)
            await eventually(lambda: stubs.relay.publishers[1].deleted, within=3)
            await asyncio.sleep(0.5)
            assert stubs.relay.whip_posts == [f"device/{DEVICE_ID}/front"]

    run(scenario)


def test_a_refused_publish_leaves_nothing_running(config, state, stubs, caplog):
    stubs.relay.publishing_allowed = False

    async def scenario() -> None:
        async with RunningBridge(config, state) as bridge:
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "front"}))
            await eventually(lambda: stubs.relay.whip_posts != [], within=5)
            await asyncio.sleep(0.3)
            assert bridge.publications == {}
            assert bridge.wanted == set()

    run(scenario)
    assert "no open grant for this camera" in caplog.text


def test_a_start_for_a_channel_the_bridge_does_not_have_is_ignored(config, state, stubs):
    async def scenario() -> None:
        async with RunningBridge(config, state):
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "garage"}))
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "../../etc"}))
            await asyncio.sleep(0.5)
            assert stubs.relay.whip_posts == []

    run(scenario)


def test_a_stop_and_a_new_start_while_the_camera_opens_leave_one_publication(config, state, stubs):
    async def scenario() -> None:
        async with RunningBridge(config, state) as bridge:
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            for kind in ("start", "stop", "start"):
                await stubs.acall(stubs.relay.send({"type": kind, "channel": "front"}))
            await eventually(lambda: len(stubs.relay.publishers) == 2, within=8)
            await eventually(lambda: "front" in bridge.publications, within=5)
            await asyncio.sleep(1)
            live = [p for p in stubs.relay.publishers.values() if not p.deleted]
            assert len(live) == 1
            assert len(bridge.publications) == 1

    run(scenario)
