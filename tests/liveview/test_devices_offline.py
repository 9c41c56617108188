"""The offline check: a device silent past its department's threshold is offline once per
outage (an event, one email to the owner in their language, the vendor's fulfilment queue),
and its next heartbeat clears it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import Fulfilment
from portal.liveview.models import Device, DeviceEvent
from tests.liveview.test_devices_heartbeat import beat, fulfilment_for

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=11)


def check(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        call_command("liveview_devices_check", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_a_silent_device_goes_offline_once_and_its_owner_is_told_once(
    device_paired, device_api, django_capture_on_commit_callbacks
):
    beat(device_api, device_paired, [])
    check(django_capture_on_commit_callbacks)
    assert not mail.outbox
    with time_machine.travel(timezone.now() + LATER):
        check(django_capture_on_commit_callbacks)
        check(django_capture_on_commit_callbacks)
    with time_machine.travel(timezone.now() + LATER * 3):
        check(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [device_paired.owner.email]
    assert "offline" in mail.outbox[0].subject
    assert f"/my/sites/{device_paired.owner.site_id}/devices/" in mail.outbox[0].body
    with schema_context("concord"):
        device = Device.objects.get()
        assert device.offline_since == device.last_heartbeat_at + timedelta(minutes=10)
        assert DeviceEvent.objects.filter(kind=DeviceEvent.Kind.OFFLINE).count() == 1
    page = device_paired.owner.client.get(f"/my/sites/{device_paired.owner.site_id}/devices/")
    assert b"Offline since" in page.content
    with time_machine.travel(timezone.now() + LATER * 4):
        beat(device_api, device_paired, [])
        with schema_context("concord"):
            assert Device.objects.get().offline_since is None
        check(django_capture_on_commit_callbacks)
    with time_machine.travel(timezone.now() + LATER * 6):
        check(django_capture_on_commit_callbacks)
    # A second outage, a second email.
    assert len(mail.outbox) == 2


def test_the_owner_is_told_in_their_language(
    device_owner_make, device_pair, device_api, django_capture_on_commit_callbacks
):
    paired = device_pair(device_owner_make(email="ana@example.org", language="es"))
    beat(device_api, paired, [])
    with time_machine.travel(timezone.now() + LATER):
        check(django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    assert "sin conexión" in mail.outbox[0].subject


def test_a_device_never_heard_from_or_removed_is_not_reported(
    device_paired, django_capture_on_commit_callbacks
):
    with time_machine.travel(timezone.now() + LATER):
        check(django_capture_on_commit_callbacks)
    assert not mail.outbox


def test_the_vendor_s_fulfilment_queue_shows_an_offline_device(
    device_paired, device_api, platform_client, vendor, sign_in, django_capture_on_commit_callbacks
):
    fulfilment = fulfilment_for(device_paired.owner)
    beat(device_api, device_paired, [])
    sign_in(platform_client, vendor)
    queue = platform_client.get("/console/billing/fulfilment/").content.decode()
    assert "Offline since" not in queue
    with time_machine.travel(timezone.now() + LATER):
        check(django_capture_on_commit_callbacks)
    fulfilment.refresh_from_db()
    assert fulfilment.state == Fulfilment.State.ONLINE
    assert fulfilment.device_offline_since is not None
    queue = platform_client.get("/console/billing/fulfilment/").content.decode()
    assert "Offline since" in queue
    assert fulfilment.subscription.site_address in queue
    with time_machine.travel(timezone.now() + LATER * 2):
        beat(device_api, device_paired, [])
    fulfilment.refresh_from_db()
    assert fulfilment.device_offline_since is None
    assert (
        "Offline since" not in platform_client.get("/console/billing/fulfilment/").content.decode()
    )
