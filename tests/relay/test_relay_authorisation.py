"""Nothing passes the relay without Canvass's yes: a refused publisher gets 403, a viewer whose
grant ends stops receiving within 2 seconds (and the bridge is told to stop), and the same
device, channel and camera ids in two cities never meet."""

from __future__ import annotations

import asyncio
import time

from aiortc import RTCPeerConnection
from aiortc.contrib.media import MediaPlayer

from tests.relay.conftest import CARROLLTON, CONCORD, NO_STUN, World, offer


def test_publishing_without_a_grant_is_refused_with_403(run_relay) -> None:
    async def scenario(world: World) -> None:
        world.stub.device(CONCORD, "1", "cvd_one")  # a good credential, but no grant
        player = MediaPlayer("testsrc=size=320x180:rate=15", format="lavfi")
        pc = RTCPeerConnection(NO_STUN)
        pc.addTrack(player.video)
        try:
            response = await world.post_sdp(
                CONCORD, "/whip/device/1/ch1", await offer(pc), bearer="cvd_one"
            )
            assert response.status == 403
            assert await response.json() == {"error": "no open grant"}
            response = await world.post_sdp(
                CONCORD, "/whip/device/1/ch1", pc.localDescription.sdp, bearer="cvd_wrong"
            )
            assert response.status == 401
            assert world.hub.stats()["publishers"] == 0
        finally:
            await pc.close()
            player.video.stop()

    run_relay(scenario)


def test_a_grant_ending_mid_stream_stops_the_frames_within_two_seconds(run_relay) -> None:
    async def scenario(world: World) -> None:
        world.stub.device(CONCORD, "1", "cvd_one")
        world.stub.grant(CONCORD, "token-a", "7", "device/1/ch1")
        bridge = await world.bridge(CONCORD, "1", "cvd_one")
        viewer = await world.viewer(CONCORD, "7", "token-a")
        await viewer.wait_frames(10)
        world.stub.revoke(CONCORD, "token-a")
        revoked = time.monotonic()
        await asyncio.sleep(2.0)
        frames = viewer.frames
        await asyncio.sleep(1.0)
        assert viewer.frames == frames, "frames still arrive 2 s after the grant ended"
        assert viewer.last_frame_at - revoked < 2.0
        assert world.hub.stats()["viewers"] == 0
        # The publisher's own re-check failed too (no grant left): the bridge stops pushing.
        assert bridge.sent("stop") == [{"type": "stop", "channel": "ch1"}]
        assert world.hub.stats()["publishers"] == 0

    run_relay(scenario)


def test_every_viewer_and_publisher_is_asked_about_again_each_second(run_relay) -> None:
    async def scenario(world: World) -> None:
        world.stub.device(CONCORD, "1", "cvd_one")
        world.stub.grant(CONCORD, "token-a", "7", "device/1/ch1")
        await world.bridge(CONCORD, "1", "cvd_one")
        viewer = await world.viewer(CONCORD, "7", "token-a")
        await viewer.wait_frames(1)
        reads, publishes = len(world.stub.actions("read")), len(world.stub.actions("publish"))
        await asyncio.sleep(3.1)
        assert len(world.stub.actions("read")) - reads >= 3
        assert len(world.stub.actions("publish")) - publishes >= 3
        # Every check carries the key and the city's hostname without the relay's port.
        assert {call["host"] for call in world.stub.calls} == {CONCORD}
        assert {call["key"] for call in world.stub.calls} == {"relay-test-key"}

    run_relay(scenario)


def test_the_same_ids_in_two_cities_never_meet(run_relay) -> None:
    async def scenario(world: World) -> None:
        for city in (CONCORD, CARROLLTON):
            world.stub.device(city, "1", f"cvd_{city}")
            world.stub.grant(city, f"token-{city}", "7", "device/1/ch1")
        concord_bridge = await world.bridge(CONCORD, "1", f"cvd_{CONCORD}", size="640x360")
        carrollton_bridge = await world.bridge(CARROLLTON, "1", f"cvd_{CARROLLTON}", size="320x180")
        concord = await world.viewer(CONCORD, "7", f"token-{CONCORD}")
        assert concord.status == 201
        assert len(concord_bridge.sent("start")) == 1
        assert carrollton_bridge.messages == []  # same device id, other city: not asked
        # Concord's token on Carrollton's host (the same camera id) is refused.
        stolen = await world.viewer(CARROLLTON, "7", f"token-{CONCORD}")
        assert stolen.status == 401
        assert carrollton_bridge.messages == []
        # A Concord device credential cannot publish Carrollton's channel of the same ids.
        response = await world.post_sdp(
            CARROLLTON,
            "/whip/device/1/ch1",
            concord.pc.localDescription.sdp,
            bearer=f"cvd_{CONCORD}",
        )
        assert response.status == 401
        carrollton = await world.viewer(CARROLLTON, "7", f"token-{CARROLLTON}")
        await concord.wait_frames(5)
        await carrollton.wait_frames(5)
        # Each city's viewer gets its own city's picture (the bridges' sizes differ).
        assert concord.widths == {640}
        assert carrollton.widths == {320}
        assert set(world.hub.channels) == {(CONCORD, "device/1/ch1"), (CARROLLTON, "device/1/ch1")}
        # Carrollton's grant ends: Concord's picture goes on.
        world.stub.revoke(CARROLLTON, f"token-{CARROLLTON}")
        await asyncio.sleep(2.0)
        frames = concord.frames
        await asyncio.sleep(0.5)
        assert concord.frames > frames
        assert carrollton_bridge.sent("stop") and not concord_bridge.sent("stop")

    run_relay(scenario)


def test_a_token_for_another_camera_is_refused(run_relay) -> None:
    async def scenario(world: World) -> None:
        world.stub.device(CONCORD, "1", "cvd_one")
        world.stub.grant(CONCORD, "token-a", "7", "device/1/ch1")
        bridge = await world.bridge(CONCORD, "1", "cvd_one")
        viewer = await world.viewer(CONCORD, "8", "token-a")
        assert viewer.status == 403
        assert bridge.messages == []

    run_relay(scenario)


def test_the_token_may_come_in_the_query(run_relay) -> None:
    async def scenario(world: World) -> None:
        world.stub.device(CONCORD, "1", "cvd_one")
        world.stub.grant(CONCORD, "token-a", "7", "device/1/ch1")
        await world.bridge(CONCORD, "1", "cvd_one")
        pc = RTCPeerConnection(NO_STUN)
        pc.addTransceiver("video", direction="recvonly")
        try:
            response = await world.post_sdp(
                CONCORD, "/whep/camera/7?token=token-a", await offer(pc)
            )
            assert response.status == 201
        finally:
            await pc.close()

    run_relay(scenario)


def test_control_sockets_need_a_device_credential(run_relay) -> None:
    async def scenario(world: World) -> None:
        world.stub.device(CONCORD, "1", "cvd_one")
        for headers in ({}, {"Authorization": "Bearer cvd_wrong"}):
            response = await world.http.get(
                world.url("/bridge/control"), headers={**world.headers(CONCORD), **headers}
            )
            assert response.status == 401
            assert "error" in await response.json()
        assert world.hub.stats()["controls"] == 0

    run_relay(scenario)
