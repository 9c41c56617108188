"""Pairing a device with a site by a one-time claim code: shown once, kept hashed, good once and
for 14 days, guessed codes limited per address, a city's code unknown in another city."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.devices import (
    CLAIM_ATTEMPTS,
    DeviceChangeRefused,
    claim_code_issue,
    code_normalise,
)
from portal.liveview.models import ClaimCode, Device, DeviceEvent
from portal.registry.models import Site

pytestmark = pytest.mark.django_db


def issue(owner) -> str:
    with schema_context(owner.schema_name):
        return claim_code_issue(actor=owner.actor(), site=owner.site())


def claim(device_api, schema_name, code, **extra):
    return device_api(
        schema_name, "claim", {"code": code, "bridge_version": "1.0", "hostname": "box", **extra}
    )


def test_a_claim_code_is_twelve_unambiguous_characters_and_only_its_hash_is_kept(device_owner):
    code = issue(device_owner)
    assert re.fullmatch(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", code)
    with schema_context("concord"):
        stored = ClaimCode.objects.get(site_id=device_owner.site_id)
        assert stored.code_hash == hashlib.sha256(code_normalise(code).encode()).hexdigest()
        assert code_normalise(code) not in str(list(ClaimCode.objects.values_list()))
        assert stored.expires_at - stored.created_at == timedelta(days=14)


def test_a_code_pairs_one_device_once(device_owner, device_api):
    code = issue(device_owner)
    first = claim(device_api, "concord", code.lower().replace("-", " "))
    assert first.status_code == 201
    answer = first.json()
    assert set(answer) == {"device_id", "credential", "heartbeat_seconds", "relay_url"}
    assert answer["credential"].startswith("cvd_")
    again = claim(device_api, "concord", code)
    assert again.status_code == 400
    assert "already used" in again.json()["error"]
    with schema_context("concord"):
        device = Device.objects.get()
        assert device.site_id == device_owner.site_id and device.label == "box"
        assert ClaimCode.objects.get().device == device
        assert DeviceEvent.objects.filter(kind=DeviceEvent.Kind.CLAIMED, device=device).exists()
        assert DeviceEvent.objects.filter(kind=DeviceEvent.Kind.CLAIM_REFUSED).count() == 1


def test_a_code_expires_after_fourteen_days(device_owner, device_api):
    code = issue(device_owner)
    with time_machine.travel(timezone.now() + timedelta(days=14, minutes=1)):
        response = claim(device_api, "concord", code)
    assert response.status_code == 404
    assert "expired" in response.json()["error"]
    with schema_context("concord"):
        assert not Device.objects.exists()


def test_a_new_code_ends_the_older_unused_one(device_owner, device_api):
    older = issue(device_owner)
    newer = issue(device_owner)
    assert claim(device_api, "concord", older).status_code == 404
    assert claim(device_api, "concord", newer).status_code == 201


def test_an_unknown_code_and_a_malformed_one_are_refused_clearly(device_owner, device_api):
    unknown = claim(device_api, "concord", "AAAA-BBBB-CCCC")
    assert unknown.status_code == 404 and "Unknown claim code" in unknown.json()["error"]
    malformed = claim(device_api, "concord", "hello")
    assert malformed.status_code == 400 and "12 letters" in malformed.json()["error"]
    with schema_context("concord"):
        refused = DeviceEvent.objects.filter(kind=DeviceEvent.Kind.CLAIM_REFUSED)
        assert refused.count() == 2
        assert {event.ip_address for event in refused} == {"127.0.0.1"}


def test_guessing_codes_is_cut_off_after_ten_failures_even_for_the_right_code(
    device_owner, device_api
):
    code = issue(device_owner)
    for _attempt in range(CLAIM_ATTEMPTS):
        assert claim(device_api, "concord", "AAAA-BBBB-CCCC").status_code == 404
    refused = claim(device_api, "concord", code)
    assert refused.status_code == 429
    assert "Too many" in refused.json()["error"]
    assert claim(device_api, "concord", code).status_code == 429
    with schema_context("concord"):
        assert not Device.objects.exists()
        # Ten failures, then the limit recorded once however often it is hit.
        assert DeviceEvent.objects.filter(kind=DeviceEvent.Kind.CLAIM_REFUSED).count() == 11
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert claim(device_api, "concord", code).status_code == 201


def test_a_concord_code_is_unknown_on_carrollton_with_the_same_ids_in_both(
    device_owner_make, device_api
):
    concord = device_owner_make("concord", site_pk=424_242, camera_pks=(515_151,))
    carrollton = device_owner_make("carrollton", site_pk=424_242, camera_pks=(515_151,))
    assert concord.site_id == carrollton.site_id
    code = issue(concord)
    refused = claim(device_api, "carrollton", code)
    assert refused.status_code == 404 and "Unknown claim code" in refused.json()["error"]
    with schema_context("carrollton"):
        assert not Device.objects.exists()
    assert claim(device_api, "concord", code).status_code == 201
    with schema_context("concord"):
        assert Device.objects.get().site_id == 424_242


def test_only_an_integrated_site_s_owner_gets_a_code(device_owner, device_owner_make):
    bob = device_owner_make(email="bob@example.org")
    with schema_context("concord"), pytest.raises(PermissionDenied):
        claim_code_issue(actor=bob.actor(), site=device_owner.site())
    with schema_context("concord"):
        Site.objects.filter(pk=device_owner.site_id).update(
            participation=Site.Participation.REGISTERED
        )
        with pytest.raises(DeviceChangeRefused):
            claim_code_issue(actor=device_owner.actor(), site=device_owner.site())
        assert not ClaimCode.objects.exists()


def test_a_code_of_a_site_no_longer_integrated_pairs_nothing(device_owner, device_api):
    code = issue(device_owner)
    with schema_context("concord"):
        Site.objects.filter(pk=device_owner.site_id).update(
            participation=Site.Participation.REGISTERED
        )
    refused = claim(device_api, "concord", code)
    assert refused.status_code == 400 and "no longer integrated" in refused.json()["error"]
