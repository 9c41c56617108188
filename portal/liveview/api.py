"""The device API the Canvass bridge speaks on its city's host (described in openapi.json next
to this module): pairing by claim code, heartbeats with the channel list, credential rotation.
JSON in and out, a Bearer device credential, no cookies and no CSRF token; every refusal is a
JSON {"error": ...} with a specific reason, never a server error."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import split_domain_port
from django.views.decorators.csrf import csrf_exempt

from portal.liveview import devices
from portal.liveview.devices import DeviceRefused, ReportedChannel
from portal.liveview.models import Device, LivePreferences
from portal.liveview.relay import relay_url
from tenants.http import client_ip

OPENAPI = Path(__file__).with_name("openapi.json")
# A heartbeat with CHANNELS_MAX channels fits comfortably; anything larger is not a bridge.
BODY_MAX = 64 * 1024

DeviceView = Callable[[HttpRequest, Device], HttpResponse]


def error(message: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="canvass-device"'
    return response


@dataclass(frozen=True)
class Field:
    """One field of a JSON body: its type, whether it must be there, its longest value."""

    kind: type
    required: bool = True
    max_length: int | None = None


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def body_read(request: HttpRequest, schema: dict[str, Field]) -> dict[str, Any]:
    """The JSON object of the request checked against `schema` (unknown fields ignored), or
    BadRequest with what is wrong."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BadRequest("The request body is too large.") from None
    if len(raw) > BODY_MAX:
        raise BadRequest("The request body is too large.")
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The body is not valid JSON (UTF-8).") from None
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    return body_read_object(data, schema)


def _kind_name(kind: type) -> str:
    return {str: "a string", bool: "true or false", list: "a list"}.get(kind, kind.__name__)


def _host(request: HttpRequest) -> str:
    return split_domain_port(request.get_host())[0]


def json_api(methods: tuple[str, ...]) -> Callable[[Callable[..., HttpResponse]], Any]:
    """CSRF-exempt, the allowed methods (else a JSON 405), a bad request as a JSON 400."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = error(f"Use {' or '.join(methods)} on this address.", 405)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, **kwargs)
            except BadRequest as refusal:
                return error(refusal.message, 400)
            except DeviceRefused as refusal:
                return error(refusal.message, refusal.status)

        return wrapper

    return decorate


def device_required(view: DeviceView) -> Callable[[HttpRequest], HttpResponse]:
    """The device named by the request's Bearer credential (else a JSON 401)."""

    @wraps(view)
    def wrapper(request: HttpRequest) -> HttpResponse:
        header = request.headers.get("Authorization", "")
        scheme, _space, credential = header.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            return error("Send the device credential as 'Authorization: Bearer <credential>'.", 401)
        device = devices.device_authenticate(
            credential=credential.strip(), ip_address=client_ip(request)
        )
        return view(request, device)

    return wrapper


CLAIM = {
    "code": Field(str, max_length=40),
    "bridge_version": Field(str, required=False, max_length=40),
    "hostname": Field(str, required=False, max_length=80),
}
HEARTBEAT = {
    "channels": Field(list),
    "paused": Field(bool, required=False),
    "bridge_version": Field(str, required=False, max_length=40),
}
CHANNEL = {"key": Field(str, max_length=40), "name": Field(str, required=False, max_length=80)}


@json_api(("POST",))
def claim(request: HttpRequest) -> HttpResponse:
    data = body_read(request, CLAIM)
    device, credential = devices.device_claim(
        code=data["code"],
        bridge_version=data.get("bridge_version", ""),
        hostname=data.get("hostname", ""),
        ip_address=client_ip(request),
    )
    return JsonResponse(
        {
            "device_id": device.pk,
            "credential": credential,
            "heartbeat_seconds": devices.HEARTBEAT_SECONDS,
            "relay_url": relay_url(_host(request)),
        },
        status=201,
    )


def _channels(value: list[Any]) -> list[ReportedChannel]:
    reported = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise BadRequest(f"channels[{index}] must be an object with a key and a name.")
        try:
            checked = body_read_object(item, CHANNEL)
        except BadRequest as refusal:
            raise BadRequest(f"channels[{index}]: {refusal.message}") from None
        reported.append(ReportedChannel(checked["key"], checked.get("name", "")))
    return reported


def body_read_object(data: dict[str, Any], schema: dict[str, Field]) -> dict[str, Any]:
    """The fields of a parsed JSON object checked against `schema` (unknown fields ignored),
    or BadRequest with what is wrong."""
    for name, declared in schema.items():
        if name not in data:
            if declared.required:
                raise BadRequest(f'"{name}" is required.')
            continue
        value = data[name]
        # JSON's true/false are ints to Python: a bool field takes only a bool, and no other
        # field takes one.
        if isinstance(value, bool) != (declared.kind is bool) or not isinstance(
            value, declared.kind
        ):
            raise BadRequest(f'"{name}" must be {_kind_name(declared.kind)}.')
        if isinstance(value, str):
            if "\x00" in value:
                raise BadRequest(f'"{name}" may not contain NUL characters.')
            if declared.max_length is not None and len(value) > declared.max_length:
                raise BadRequest(f'"{name}" has at most {declared.max_length} characters.')
    return data


def _owner_paused(device: Device) -> bool:
    """Whether live view is paused for this device by anyone: on the box, the site, the owner."""
    return (
        device.paused_on_device
        or device.site.paused
        or LivePreferences.objects.filter(
            participant_id=device.site.participant_id, paused=True
        ).exists()
    )


@json_api(("POST",))
@device_required
def heartbeat(request: HttpRequest, device: Device) -> HttpResponse:
    data = body_read(request, HEARTBEAT)
    device = devices.device_heartbeat(
        device=device,
        channels=_channels(data["channels"]),
        paused=data.get("paused", False),
        bridge_version=data.get("bridge_version", device.bridge_version),
        ip_address=client_ip(request),
    )
    return JsonResponse(
        {
            "heartbeat_seconds": devices.HEARTBEAT_SECONDS,
            "relay_url": relay_url(_host(request)),
            "paused": _owner_paused(device),
        }
    )


@json_api(("POST",))
@device_required
def credential(request: HttpRequest, device: Device) -> HttpResponse:
    return JsonResponse(
        {
            "credential": devices.device_credential_rotate(
                device=device, ip_address=client_ip(request)
            )
        }
    )


@json_api(("GET", "HEAD"))
def openapi(request: HttpRequest) -> HttpResponse:
    return HttpResponse(OPENAPI.read_bytes(), content_type="application/json")
