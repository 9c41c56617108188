"""The relay's HTTP face (aiohttp): the bridges' control WebSocket, WHIP publishing, WHEP
reading, DELETE of what they created, and CORS for WHEP from the city's own pages. Every
answer that is not SDP is JSON; a refusal is a 4xx with {"error": ...}, never a crash."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web
from yarl import URL

from relay.authority import Authority
from relay.hub import MAX_SDP_BYTES, Control, Hub, Refusal

logger = logging.getLogger(__name__)

HUB: web.AppKey[Hub] = web.AppKey("hub", Hub)
PREFIX: web.AppKey[str] = web.AppKey("prefix", str)
PROXY_COUNT: web.AppKey[int] = web.AppKey("proxy_count", int)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def hostname(request: web.Request) -> str:
    """The hostname the client used, port stripped: the city whose state and authority apply."""
    try:
        return (URL(f"http://{request.host}").host or "").lower().rstrip(".")
    except ValueError:
        return ""


def bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def client_ip(request: web.Request) -> str:
    """The viewer's or bridge's address, read through the trusted proxies as Canvass reads it
    (tenants.http.client_ip, TRUSTED_PROXY_COUNT): a media token works only from the address
    its grant was opened from, so both must see the same one."""
    remote = request.remote or ""
    count = request.app[PROXY_COUNT]
    if count <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.headers.get("X-Forwarded-For", "").split(",")
        if entry.strip()
    ]
    if not forwarded:
        return remote
    return forwarded[-min(count, len(forwarded))]


def cors_origin(request: web.Request) -> str | None:
    """The request's Origin when it is one of the city's own (same hostname, any port)."""
    origin = request.headers.get("Origin")
    if not origin:
        return None
    try:
        origin_host = URL(origin).host
    except ValueError:
        return None
    if origin_host and origin_host.lower() == hostname(request):
        return origin
    return None


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except Refusal as refusal:
        response = error(refusal.status, refusal.message)
    except web.HTTPException as http:
        if http.status >= 400:
            response = error(http.status, http.reason)
        else:
            raise
    except Exception:
        logger.exception("relay error on %s %s", request.method, request.path)
        response = error(500, "the relay failed on this request")
    origin = cors_origin(request)
    if origin and "/whep/" in request.path and not response.prepared:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Location"
        response.headers["Vary"] = "Origin"
    return response


async def read_sdp(request: web.Request) -> str:
    if request.content_type != "application/sdp":
        raise Refusal(415, "the body must be an SDP offer (Content-Type: application/sdp)")
    if (request.content_length or 0) > MAX_SDP_BYTES:
        raise Refusal(413, "the SDP offer is too large")
    body = await request.content.read(MAX_SDP_BYTES + 1)
    if len(body) > MAX_SDP_BYTES:
        raise Refusal(413, "the SDP offer is too large")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Refusal(400, "the SDP offer is not text") from None


def sdp_answer(sdp: str, location: str) -> web.Response:
    return web.Response(
        status=201,
        text=sdp,
        content_type="application/sdp",
        headers={"Location": location},
    )


async def whip(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    publisher = await hub.publish(
        host=hostname(request),
        path=f"device/{request.match_info['device']}/{request.match_info['channel']}",
        credential=bearer(request),
        sdp=await read_sdp(request),
        ip=client_ip(request),
    )
    return sdp_answer(
        publisher.pc.localDescription.sdp,
        f"{request.app[PREFIX]}/whip/resource/{publisher.id}",
    )


async def whip_delete(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    publisher = hub.publishers.get(request.match_info["id"])
    if publisher is None or publisher.host != hostname(request):
        raise Refusal(404, "no such publisher")
    await hub.close_publisher(publisher.id, "the bridge stopped")
    return web.json_response({"closed": True})


async def whep(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    viewer = await hub.view(
        host=hostname(request),
        path=f"camera/{request.match_info['camera']}",
        token=bearer(request) or request.query.get("token", ""),
        query=request.query_string,
        sdp=await read_sdp(request),
        ip=client_ip(request),
    )
    return sdp_answer(
        viewer.pc.localDescription.sdp, f"{request.app[PREFIX]}/whep/resource/{viewer.id}"
    )


async def whep_delete(request: web.Request) -> web.Response:
    hub = request.app[HUB]
    viewer = hub.viewers.get(request.match_info["id"])
    if viewer is None or viewer.host != hostname(request):
        raise Refusal(404, "no such viewer")
    await hub.close_viewer(viewer.id, "the viewer left")
    return web.json_response({"closed": True})


async def whep_preflight(request: web.Request) -> web.Response:
    origin = cors_origin(request)
    if origin is None:
        return error(403, "this origin may not read from this relay")
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "POST, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Expose-Headers": "Location",
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        },
    )


async def control(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    credential = bearer(request)
    if not credential:
        raise Refusal(401, "a device credential is required (Authorization: Bearer)")
    host = hostname(request)
    decision = await hub.authority.authorise(
        host=host, action="control", path="", password=credential, ip=client_ip(request)
    )
    if not decision.allowed:
        raise Refusal(decision.status, decision.reason or "refused")
    device = decision.answer.get("device")
    if not isinstance(device, str | int) or isinstance(device, bool) or str(device) == "":
        raise Refusal(502, "the authorisation service named no device")
    socket = web.WebSocketResponse(heartbeat=20)
    await socket.prepare(request)

    async def send(message: dict[str, Any]) -> None:
        await socket.send_json(message)

    bridge = Control(
        host=host,
        device_id=str(device),
        credential=credential,
        ip=client_ip(request),
        send=send,
        close=socket.close,
    )
    await hub.control_open(bridge)
    try:
        async for message in socket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(message.data)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("type") == "hello":
                channels = data.get("channels")
                bridge.channels = [str(c) for c in channels] if isinstance(channels, list) else []
                bridge.version = str(data.get("version", ""))
    finally:
        await asyncio.shield(hub.control_lost(bridge))
    return socket


async def health(request: web.Request) -> web.Response:
    return web.json_response(request.app[HUB].stats())


def make_app(
    authority: Authority,
    *,
    prefix: str = "",
    start_timeout: float = 5.0,
    linger: float = 2.0,
    interval: float = 1.0,
    ice_servers: tuple[str, ...] = (),
    proxy_count: int = 0,
) -> web.Application:
    """The relay as an aiohttp application; `prefix` (e.g. "/media") when a proxy serves it
    under a path of the city's host."""
    prefix = prefix.rstrip("/")
    hub = Hub(
        authority,
        start_timeout=start_timeout,
        linger=linger,
        interval=interval,
        ice_servers=ice_servers,
    )
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_SDP_BYTES)
    app[HUB] = hub
    app[PREFIX] = prefix
    app[PROXY_COUNT] = proxy_count
    app.router.add_get(f"{prefix}/bridge/control", control)
    app.router.add_post(f"{prefix}/whip/device/{{device}}/{{channel}}", whip)
    app.router.add_delete(f"{prefix}/whip/resource/{{id}}", whip_delete)
    app.router.add_post(f"{prefix}/whep/camera/{{camera}}", whep)
    app.router.add_delete(f"{prefix}/whep/resource/{{id}}", whep_delete)
    app.router.add_route("OPTIONS", f"{prefix}/whep/camera/{{camera}}", whep_preflight)
    app.router.add_route("OPTIONS", f"{prefix}/whep/resource/{{id}}", whep_preflight)
    app.router.add_get(f"{prefix}/healthz", health)

    async def on_startup(app: web.Application) -> None:
        hub.start()

    async def on_shutdown(app: web.Application) -> None:
        await asyncio.shield(hub.shutdown())

    app.on_startup.append(on_startup)
    app.on_shutdown.append(on_shutdown)
    return app
