"""The device credential: kept as a hash only, refused once rotated or revoked, refused on
another city's host; revoking ends every grant open on the device's cameras."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.devices import DeviceRefused, device_authenticate, device_revoke
from portal.liveview.models import Channel, Device, DeviceEvent, Grant
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, StaffMember

pytestmark = pytest.mark.django_db

BEAT = {"channels": [{"key": "ch1", "name": "Front"}], "paused": False, "bridge_version": "1.0"}


def test_no_plaintext_credential_is_stored(device_paired):
    secret = device_paired.credential.rsplit("_", 1)[-1]
    with schema_context("concord"), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM liveview_device")
        rows = cursor.fetchall()
    assert rows
    stored = repr(rows)
    assert secret not in stored and device_paired.credential not in stored


def test_the_credential_authenticates_its_device_and_a_wrong_one_is_refused(
    device_paired, device_api
):
    assert (
        device_api("concord", "heartbeat", BEAT, credential=device_paired.credential).status_code
        == 200
    )
    wrong = device_paired.credential[:-4] + "AAAA"
    refused = device_api("concord", "heartbeat", BEAT, credential=wrong)
    assert refused.status_code == 401
    assert refused.json() == {"error": "Wrong device credential."}
    assert refused["WWW-Authenticate"].startswith("Bearer")
    missing = device_api("concord", "heartbeat", BEAT)
    assert missing.status_code == 401 and "Bearer" in missing.json()["error"]
    with schema_context("concord"):
        assert DeviceEvent.objects.filter(kind=DeviceEvent.Kind.REFUSED).count() == 1


def test_rotation_replaces_the_credential_at_once(device_paired, device_api):
    old = device_paired.credential
    rotated = device_api("concord", "credential", credential=old)
    assert rotated.status_code == 200
    new = rotated.json()["credential"]
    assert new != old and new.startswith("cvd_")
    assert device_api("concord", "heartbeat", BEAT, credential=old).status_code == 401
    assert device_api("concord", "credential", credential=old).status_code == 401
    assert device_api("concord", "heartbeat", BEAT, credential=new).status_code == 200
    with schema_context("concord"):
        assert DeviceEvent.objects.filter(kind=DeviceEvent.Kind.ROTATED).count() == 1


def test_a_concord_credential_is_unknown_on_carrollton(device_owner_make, device_pair, device_api):
    concord = device_pair(device_owner_make("concord", site_pk=313_131))
    carrollton = device_pair(device_owner_make("carrollton", site_pk=313_131))
    refused = device_api("carrollton", "heartbeat", BEAT, credential=concord.credential)
    assert refused.status_code == 401 and refused.json()["error"] == "Unknown device credential."
    assert (
        device_api("carrollton", "heartbeat", BEAT, credential=carrollton.credential).status_code
        == 200
    )
    with schema_context("carrollton"):
        assert Device.objects.get().last_heartbeat_at is not None
    with schema_context("concord"):
        assert Device.objects.get().last_heartbeat_at is None


def open_grant(camera_id: int) -> Grant:
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="rtcc@concord", email="rtcc@concord")
    staff = StaffMember.objects.create(user=user, role=StaffMember.Role.OPERATOR)
    return Grant.objects.create(
        staff=staff,
        staff_email=user.email,
        staff_role=staff.role,
        camera_id=camera_id,
        reason="active_threat",
        emergency=True,
        case_number="C-1",
        expires_at=timezone.now() + timedelta(minutes=15),
    )


def test_the_owner_removes_a_device_and_its_credential_and_grants_end(device_paired, device_api):
    owner = device_paired.owner
    assert (
        device_api("concord", "heartbeat", BEAT, credential=device_paired.credential).status_code
        == 200
    )
    with schema_context("concord"):
        Channel.objects.filter(key="ch1").update(camera_id=owner.camera_ids[0])
        grant = open_grant(owner.camera_ids[0])
    page = owner.client.get(f"/my/devices/{device_paired.device_id}/remove/")
    assert page.status_code == 200 and b"Remove the device" in page.content
    removed = owner.client.post(f"/my/devices/{device_paired.device_id}/remove/")
    assert removed.status_code == 302
    refused = device_api("concord", "heartbeat", BEAT, credential=device_paired.credential)
    assert refused.status_code == 401 and "removed" in refused.json()["error"]
    with schema_context("concord"):
        device = Device.objects.get()
        assert device.revoked_at is not None
        assert Channel.objects.get().camera_id is None
        grant.refresh_from_db()
        assert grant.ended_why == Grant.Ended.DEVICE_REVOKED
        assert AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED_END).count() == 1
        kinds = set(DeviceEvent.objects.values_list("kind", flat=True))
        assert {DeviceEvent.Kind.REVOKED, DeviceEvent.Kind.REFUSED} <= kinds
    # Once removed, it is gone from the page and cannot be removed twice.
    assert owner.client.post(f"/my/devices/{device_paired.device_id}/remove/").status_code == 404


def test_a_department_administrator_may_remove_a_device_and_another_owner_may_not(
    device_paired, device_owner_make, make_staff
):
    bob = device_owner_make(email="bob@example.org")
    assert bob.client.post(f"/my/devices/{device_paired.device_id}/remove/").status_code == 404
    administrator = make_staff("concord", "administrator")
    investigator = make_staff("concord", "investigator")
    with schema_context("concord"):
        device = Device.objects.get()
        with pytest.raises(PermissionDenied):
            device_revoke(actor=bob.actor(), device=device)
        staff = StaffMember.objects.select_related("user")
        with pytest.raises(PermissionDenied):
            device_revoke(
                actor=Actor.of_staff(staff.get(user__email=investigator.email), None),
                device=device,
            )
        device_revoke(
            actor=Actor.of_staff(staff.get(user__email=administrator.email), None), device=device
        )
        with pytest.raises(DeviceRefused):
            device_authenticate(credential=device_paired.credential, ip_address=None)
