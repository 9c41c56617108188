"""The bridge reads a real RTSP camera (over TCP, as it does a recorder) and publishes it."""

from __future__ import annotations

from dataclasses import replace

from canvass_bridge.config import Channel
from tests.bridge.conftest import DEVICE_ID, RunningBridge, eventually, run
from tests.bridge.rtsp import RtspServer, TestPatternCamera


def test_an_rtsp_camera_is_published_when_the_relay_asks(config, state, stubs):
    camera_server = RtspServer()
    stubs.call(camera_server.start())
    camera = TestPatternCamera(camera_server.url())
    camera.start()
    config = replace(
        config,
        channels=(Channel(key="door", name="Door", source=camera_server.url()),),
    )

    async def scenario() -> None:
        await eventually(lambda: camera_server.sdp is not None, within=5)
        async with RunningBridge(config, state):
            await eventually(lambda: stubs.relay.hellos != [], within=5)
            # Nothing is read from the camera before the start.
            assert camera_server.players == set()
            await stubs.acall(stubs.relay.send({"type": "start", "channel": "door"}))
            await eventually(lambda: 1 in stubs.relay.publishers, within=8)
            publisher = stubs.relay.publishers[1]
            await eventually(lambda: publisher.frames >= 10, within=8)
            assert camera_server.players != set()

            await stubs.acall(stubs.relay.send({"type": "stop", "channel": "door"}))
            await eventually(lambda: publisher.deleted, within=3)
            # The camera is let go as well.
            await eventually(lambda: camera_server.players == set(), within=3)

    try:
        run(scenario, timeout=25)
    finally:
        errors = camera.stop()
        stubs.call(camera_server.close())
    assert "Error" not in errors, errors
    assert stubs.relay.whip_posts == [f"device/{DEVICE_ID}/door"]
