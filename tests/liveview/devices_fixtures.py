"""Fixtures of the device tests (imported by tests/liveview/conftest.py): an owner with an
integrated site and its cameras, a device paired through the real API, and the JSON calls the
bridge makes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django_tenants.utils import schema_context

from portal.registry.audit import Actor
from portal.registry.models import Participant, Site
from tenants.models import Department

API = "/api/device/v1"


@dataclass
class DeviceOwner:
    """A signed-in resident with one integrated site and its cameras, in one city."""

    client: Client
    email: str
    schema_name: str
    site_id: int
    camera_ids: list[int]

    @property
    def host(self) -> str:
        return f"{self.schema_name}.localhost"

    def participant(self) -> Participant:
        return Participant.objects.select_related("user").get(user__email=self.email)

    def actor(self) -> Actor:
        return Actor.of_participant(self.participant(), "203.0.113.7")

    def site(self) -> Site:
        return Site.objects.get(pk=self.site_id)


def device_site_register(
    schema_name: str,
    participant: Participant,
    *,
    email: str,
    site_pk: int | None = None,
    camera_pks: tuple[int, ...] = (),
    cameras: int = 2,
) -> Site:
    """An integrated site of the participant with `cameras` cameras (given ids if any)."""
    from portal.registry.models import Camera
    from portal.registry.services import site_register

    program = Department.objects.select_related("program").get(schema_name=schema_name).program
    site = site_register(
        participant=participant,
        program=program,
        site={
            **({"pk": site_pk} if site_pk else {}),
            "kind": "home",
            "address": f"{site_pk or 1} Main St",
            "latitude": program.center_latitude,
            "longitude": program.center_longitude,
            "contact_name": "Owner",
            "contact_email": email,
            "contact_method": "email",
        },
        cameras=[
            {
                **({"pk": camera_pks[index]} if index < len(camera_pks) else {}),
                "label": f"Camera {index + 1}",
                "direction": 90,
                "sees": ["street"],
                "mount": "wall",
                "recording": "motion",
                "retention_days": 14,
            }
            for index in range(cameras)
        ],
        language=participant.language,
    )
    Site.objects.filter(pk=site.pk).update(participation=Site.Participation.INTEGRATED)
    assert list(Camera.objects.filter(site=site).values_list("pk", flat=True))
    return site


@pytest.fixture
def device_owner_make(make_resident: Callable[..., Any]) -> Callable[..., DeviceOwner]:
    """device_owner_make("concord", email=..., site_pk=..., camera_pks=...) -> DeviceOwner."""

    def make(
        schema_name: str = "concord",
        *,
        email: str = "alice@example.org",
        language: str = "en",
        site_pk: int | None = None,
        camera_pks: tuple[int, ...] = (),
        cameras: int = 2,
    ) -> DeviceOwner:
        resident = make_resident(schema_name, email=email, language=language)
        with schema_context(schema_name):
            participant = Participant.objects.get(user__email=email)
            site = device_site_register(
                schema_name,
                participant,
                email=email,
                site_pk=site_pk,
                camera_pks=camera_pks,
                cameras=cameras,
            )
            camera_ids = list(site.cameras.order_by("pk").values_list("pk", flat=True))
        return DeviceOwner(resident.client, email, schema_name, site.pk, camera_ids)

    return make


@pytest.fixture
def device_owner(device_owner_make: Callable[..., DeviceOwner]) -> DeviceOwner:
    return device_owner_make()


def device_api_post(
    client: Client,
    route: str,
    body: Any = None,
    *,
    credential: str | None = None,
    raw: bytes | str | None = None,
) -> HttpResponse:
    """POST the bridge's JSON to /api/device/v1/<route>, with the credential as Bearer."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {credential}"} if credential else {}
    data = raw if raw is not None else json.dumps(body if body is not None else {})
    return client.post(f"{API}/{route}", data, content_type="application/json", **headers)


@pytest.fixture
def device_api(host_client: Callable[[str], Client]) -> Callable[..., HttpResponse]:
    """device_api("concord", "claim", {...}, credential=...) from the bridge (no cookies)."""

    def call(schema_name: str, route: str, body: Any = None, **kwargs: Any) -> HttpResponse:
        return device_api_post(host_client(f"{schema_name}.localhost"), route, body, **kwargs)

    return call


@dataclass
class PairedDevice:
    owner: DeviceOwner
    device_id: int
    credential: str


@pytest.fixture
def device_pair(device_api: Callable[..., HttpResponse]) -> Callable[[DeviceOwner], PairedDevice]:
    """device_pair(owner): a claim code issued for the owner's site and claimed by the API."""
    from portal.liveview.devices import claim_code_issue

    def pair(owner: DeviceOwner) -> PairedDevice:
        with schema_context(owner.schema_name):
            code = claim_code_issue(actor=owner.actor(), site=owner.site())
        response = device_api(
            owner.schema_name,
            "claim",
            {"code": code, "bridge_version": "1.0.0", "hostname": "porch-box"},
        )
        assert response.status_code == 201, response.content
        answer = response.json()
        return PairedDevice(owner, answer["device_id"], answer["credential"])

    return pair


@pytest.fixture
def device_paired(
    device_owner: DeviceOwner, device_pair: Callable[[DeviceOwner], PairedDevice]
) -> PairedDevice:
    return device_pair(device_owner)
