"""Heartbeats: the device's channels kept by key, its pause switch and coming online recorded
when they change, the site's fulfilment online at the first heartbeat; the owner maps channels
to their own cameras only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import DevicePlan, Fulfilment, Subscription
from portal.liveview.devices import DeviceChangeRefused, channel_is_reported, channel_map
from portal.liveview.models import Channel, Device, DeviceEvent
from portal.registry.models import Camera
from tenants.models import Department

pytestmark = pytest.mark.django_db


def beat(device_api, paired, channels, *, paused=False, version="1.1"):
    return device_api(
        paired.owner.schema_name,
        "heartbeat",
        {"channels": channels, "paused": paused, "bridge_version": version},
        credential=paired.credential,
    )


def kinds() -> list[str]:
    return list(DeviceEvent.objects.order_by("at", "pk").values_list("kind", flat=True))


def test_a_heartbeat_records_channels_pause_and_version(device_paired, device_api):
    answer = beat(device_api, device_paired, [{"key": "ch1", "name": "Front"}, {"key": "ch2"}])
    assert answer.status_code == 200
    assert answer.json() == {"heartbeat_seconds": 30, "relay_url": None, "paused": False}
    assert beat(device_api, device_paired, [{"key": "ch1", "name": "Door"}], paused=True).json()[
        "paused"
    ]
    assert beat(device_api, device_paired, [{"key": "ch1", "name": "Door"}]).status_code == 200
    with schema_context("concord"):
        device = Device.objects.get()
        assert device.bridge_version == "1.1" and not device.paused_on_device
        assert device.last_heartbeat_from == "127.0.0.1"
        channels = {channel.key: channel for channel in Channel.objects.select_related("device")}
        assert set(channels) == {"ch1", "ch2"}
        assert channels["ch1"].name == "Door"
        assert channel_is_reported(channels["ch1"]) and not channel_is_reported(channels["ch2"])
        assert kinds() == ["claimed", "online", "paused", "resumed"]


def test_the_relay_url_is_the_city_s(device_paired, device_api, settings):
    settings.MEDIA_RELAY_URL = "http://{host}:8890"
    answer = beat(device_api, device_paired, [])
    assert answer.json()["relay_url"] == "http://concord.localhost:8890"


def test_a_device_silent_past_the_threshold_comes_online_again(device_paired, device_api):
    beat(device_api, device_paired, [])
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        beat(device_api, device_paired, [])
    with time_machine.travel(timezone.now() + timedelta(minutes=12)):
        beat(device_api, device_paired, [])
    with schema_context("concord"):
        assert kinds() == ["claimed", "online", "online"]


def test_a_channel_no_longer_reported_keeps_its_camera(device_paired, device_api):
    owner = device_paired.owner
    beat(device_api, device_paired, [{"key": "ch1"}])
    with schema_context("concord"):
        channel = Channel.objects.get()
        channel_map(actor=owner.actor(), channel=channel, camera=Camera(pk=owner.camera_ids[0]))
    beat(device_api, device_paired, [])
    with schema_context("concord"):
        channel = Channel.objects.select_related("device").get()
        assert channel.camera_id == owner.camera_ids[0]
        assert not channel_is_reported(channel)


def test_the_owner_maps_a_channel_from_the_devices_page(device_paired, device_api):
    owner = device_paired.owner
    beat(device_api, device_paired, [{"key": "ch1", "name": "Front"}])
    with schema_context("concord"):
        channel = Channel.objects.get()
    page = owner.client.get(f"/my/sites/{owner.site_id}/devices/")
    assert page.status_code == 200
    assert b"Front" in page.content and b"Online" in page.content and b"1.1" in page.content
    mapped = owner.client.post(
        f"/my/channels/{channel.pk}/camera/", {"camera": str(owner.camera_ids[1])}, follow=True
    )
    assert "Channel Front is Camera 2 now." in mapped.content.decode()
    with schema_context("concord"):
        assert Channel.objects.get().camera_id == owner.camera_ids[1]
    owner.client.post(f"/my/channels/{channel.pk}/camera/", {"camera": ""})
    with schema_context("concord"):
        assert Channel.objects.get().camera_id is None


def test_a_channel_mapped_to_another_owner_s_camera_is_refused(
    device_paired, device_api, device_owner_make
):
    owner = device_paired.owner
    bob = device_owner_make(email="bob@example.org")
    beat(device_api, device_paired, [{"key": "ch1"}, {"key": "ch2"}])
    with schema_context("concord"):
        first, second = Channel.objects.order_by("key")
    refused = owner.client.post(
        f"/my/channels/{first.pk}/camera/", {"camera": str(bob.camera_ids[0])}, follow=True
    )
    assert "not one of yours" in refused.content.decode()
    # Bob cannot map (or see) Alice's channel either.
    assert (
        bob.client.post(
            f"/my/channels/{first.pk}/camera/", {"camera": str(bob.camera_ids[0])}
        ).status_code
        == 404
    )
    with schema_context("concord"):
        assert Channel.objects.filter(camera__isnull=False).count() == 0
        channel_map(actor=owner.actor(), channel=first, camera=Camera(pk=owner.camera_ids[0]))
        with pytest.raises(DeviceChangeRefused, match="already channel"):
            channel_map(actor=owner.actor(), channel=second, camera=Camera(pk=owner.camera_ids[0]))


def test_a_camera_of_the_owner_s_other_site_is_refused(device_paired, device_api):
    from tests.liveview.devices_fixtures import device_site_register

    owner = device_paired.owner
    beat(device_api, device_paired, [{"key": "ch1"}])
    with schema_context("concord"):
        other = device_site_register(
            "concord", owner.participant(), email=owner.email, site_pk=777_001
        )
        with pytest.raises(DeviceChangeRefused, match="another site"):
            channel_map(
                actor=owner.actor(),
                channel=Channel.objects.get(),
                camera=other.cameras.first(),
            )


def fulfilment_for(owner, state=Fulfilment.State.SHIPPED) -> Fulfilment:
    department = Department.objects.get(schema_name=owner.schema_name)
    plan, _created = DevicePlan.objects.get_or_create(
        slug="hub-devices",
        defaults={
            "name": "Hub",
            "cameras_supported": 4,
            "storage_gb": 500,
            "device_price": 35_000,
            "yearly_price": 15_000,
            "description_en": "Hub.",
            "description_es": "Hub.",
        },
    )
    with schema_context(owner.schema_name):
        site = owner.site()
    subscription = Subscription.objects.create_for_site(
        department=department,
        site=site,
        plan=plan,
        status=Subscription.Status.ACTIVE,
        entitled=True,
        stripe_subscription_id=f"sub_{owner.schema_name}_{site.pk}",
    )
    return Fulfilment.objects.create(subscription=subscription, state=state)


def test_the_fulfilment_is_online_at_the_first_heartbeat(device_paired, device_api):
    fulfilment = fulfilment_for(device_paired.owner)
    beat(device_api, device_paired, [])
    fulfilment.refresh_from_db()
    assert fulfilment.state == Fulfilment.State.ONLINE
    first = fulfilment.online_at
    assert first is not None
    assert fulfilment.subscription.events.filter(kind="fulfilment:online").count() == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=1)):
        beat(device_api, device_paired, [])
    fulfilment.refresh_from_db()
    assert fulfilment.online_at == first
    assert fulfilment.subscription.events.filter(kind="fulfilment:online").count() == 1


def test_a_returned_device_s_fulfilment_never_moves_back(device_paired, device_api):
    fulfilment = fulfilment_for(device_paired.owner, Fulfilment.State.RETURNED)
    beat(device_api, device_paired, [])
    fulfilment.refresh_from_db()
    assert fulfilment.state == Fulfilment.State.RETURNED and fulfilment.online_at is None


def test_the_fulfilment_of_the_same_site_id_in_another_city_is_untouched(
    device_owner_make, device_pair, device_api
):
    concord = device_owner_make("concord", site_pk=616_161)
    carrollton = device_owner_make("carrollton", site_pk=616_161)
    concord_fulfilment = fulfilment_for(concord)
    carrollton_fulfilment = fulfilment_for(carrollton)
    beat(device_api, device_pair(carrollton), [])
    concord_fulfilment.refresh_from_db()
    carrollton_fulfilment.refresh_from_db()
    assert carrollton_fulfilment.state == Fulfilment.State.ONLINE
    assert concord_fulfilment.state == Fulfilment.State.SHIPPED
