"""Bad requests get a 4xx with a JSON reason, never a crash; CORS answers only the city's own
origins; the authority client fails closed; the relay imports nothing of Django or the portal."""

from __future__ import annotations

import ast
from pathlib import Path

from aiortc import RTCPeerConnection

from relay.authority import HttpAuthority
from tests.aio import run_isolated
from tests.relay.conftest import CONCORD, NO_STUN, World, offer

RELAY = Path(__file__).resolve().parents[2] / "platform" / "relay"


def test_malformed_or_missing_input_gets_a_json_4xx(run_relay) -> None:
    async def scenario(world: World) -> None:
        world.stub.device(CONCORD, "1", "cvd_one")
        world.stub.grant(CONCORD, "token-a", "7", "device/1/ch1")
        pc = RTCPeerConnection(NO_STUN)
        pc.addTransceiver("video", direction="recvonly")
        good = await offer(pc)
        await pc.close()
        no_media = good.split("m=video")[0]  # a session with no video to answer
        cases = [
            ("/whep/camera/7", "v=0\r\nthis is not sdp\r\n", "token-a", {}, 400),
            ("/whep/camera/7", "\x00\x01garbage", "token-a", {}, 400),
            ("/whep/camera/7", "", "token-a", {}, 400),
            ("/whep/camera/7", no_media, "token-a", {}, 400),
            ("/whep/camera/7", good, "", {}, 401),
            ("/whep/camera/7", good, "token-unknown", {}, 401),
            ("/whep/camera/7", good, "token-a", {"Content-Type": "text/plain"}, 415),
            ("/whep/camera/7", "v=0\r\n" + "a=x\r\n" * 20_000, "token-a", {}, 413),
            ("/whip/device/1/ch1", good, "", {}, 401),
            ("/whip/device/1/ch1", "not sdp", "cvd_one", {}, 400),
            ("/whep/camera/7/extra", good, "token-a", {}, 404),
        ]
        for path, sdp, bearer, headers, status in cases:
            response = await world.post_sdp(CONCORD, path, sdp, bearer=bearer, **headers)
            body = await response.json()
            assert (response.status, sorted(body)) == (status, ["error"]), (path, sdp[:20])
        for path in ("/whep/resource/nope", "/whip/resource/nope"):
            response = await world.http.delete(world.url(path), headers=world.headers(CONCORD))
            assert response.status == 404
            assert "error" in await response.json()
        health = await world.http.get(world.url("/healthz"), headers=world.headers(CONCORD))
        assert health.status == 200
        assert (await health.json())["viewers"] == 0

    run_relay(scenario)


def test_a_viewer_is_deleted_only_on_its_own_citys_host(run_relay) -> None:
    async def scenario(world: World) -> None:
        world.stub.device(CONCORD, "1", "cvd_one")
        world.stub.grant(CONCORD, "token-a", "7", "device/1/ch1")
        await world.bridge(CONCORD, "1", "cvd_one")
        viewer = await world.viewer(CONCORD, "7", "token-a")
        other = await world.http.delete(
            world.url(viewer.location), headers=world.headers("carrollton.example")
        )
        assert other.status == 404
        assert world.hub.stats()["viewers"] == 1
        assert await viewer.leave() == 200
        assert world.hub.stats()["viewers"] == 0

    run_relay(scenario)


def test_cors_answers_the_citys_own_origins_only(run_relay) -> None:
    async def scenario(world: World) -> None:
        world.stub.grant(CONCORD, "token-a", "7", "device/1/ch1")
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        }
        url = world.url("/whep/camera/7")
        own = await world.http.options(
            url,
            headers={
                **world.headers(CONCORD),
                **preflight,
                "Origin": "http://concord.example:8000",
            },
        )
        assert own.status == 204
        assert own.headers["Access-Control-Allow-Origin"] == "http://concord.example:8000"
        assert "Authorization" in own.headers["Access-Control-Allow-Headers"]
        assert "Content-Type" in own.headers["Access-Control-Allow-Headers"]
        assert "Location" in own.headers["Access-Control-Expose-Headers"]
        for origin in ("http://carrollton.example:8000", "https://evil.example", "null"):
            other = await world.http.options(
                url, headers={**world.headers(CONCORD), **preflight, "Origin": origin}
            )
            assert other.status == 403
            assert "Access-Control-Allow-Origin" not in other.headers
        # The answer itself (here a refusal: no bridge) carries the header for the city's page.
        pc = RTCPeerConnection(NO_STUN)
        pc.addTransceiver("video", direction="recvonly")
        response = await world.post_sdp(
            CONCORD,
            "/whep/camera/7",
            await offer(pc),
            bearer="token-a",
            Origin="https://concord.example",
        )
        await pc.close()
        assert response.status == 503
        assert response.headers["Access-Control-Allow-Origin"] == "https://concord.example"

    run_relay(scenario)


def test_the_authority_fails_closed_when_canvass_does_not_answer() -> None:
    async def scenario() -> None:
        # Nothing listens on port 9 of loopback (discard): connection refused.
        authority = HttpAuthority("http://127.0.0.1:9", "key", timeout=0.5)
        try:
            decision = await authority.authorise(
                host=CONCORD, action="read", path="camera/7", token="token-a"
            )
        finally:
            await authority.close()
        assert not decision.allowed
        assert decision.status == 503

    run_isolated(scenario)


def test_the_relay_imports_nothing_of_django_or_canvass() -> None:
    forbidden = ("django", "portal", "tenants", "billing", "canvass", "console")
    found = []
    for path in sorted(RELAY.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name}: {name}" for name in names if name.split(".")[0] in forbidden]
    assert found == []


async def video_offer() -> str:
    pc = RTCPeerConnection(NO_STUN)
    pc.addTransceiver("video", direction="recvonly")
    try:
        return await offer(pc)
    finally:
        await pc.close()


def test_the_client_address_is_read_through_the_trusted_proxies_only(run_relay) -> None:
    """Canvass binds a media token to the grant's address; the relay must report the same one
    (through TRUSTED_PROXY_COUNT proxies), and a forged X-Forwarded-For entry is never read."""

    async def scenario(world: World) -> None:
        forwarded = {"X-Forwarded-For": "10.6.6.6, 198.51.100.7"}
        await world.post_sdp(
            CONCORD,
            "/whep/camera/1",
            await video_offer(),
            bearer="t",
            **forwarded,
        )
        reads = world.stub.actions("read", CONCORD)
        assert reads and {call["ip"] for call in reads} == {"198.51.100.7"}

    run_relay(scenario, proxy_count=1)


def test_without_trusted_proxies_the_forwarded_header_is_ignored(run_relay) -> None:
    async def scenario(world: World) -> None:
        await world.post_sdp(
            CONCORD,
            "/whep/camera/1",
            await video_offer(),
            bearer="t",
            **{"X-Forwarded-For": "198.51.100.7"},
        )
        reads = world.stub.actions("read", CONCORD)
        assert reads and {call["ip"] for call in reads} == {"127.0.0.1"}

    run_relay(scenario)
