"""POST /media/auth, the relay's question before it serves anything: a viewer's media token for
one camera of one city, a device's stream only while a grant for its camera is open, a bridge's
control connection; MediaMTX's request shape, JSON answers, 401/403 refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django_tenants.utils import schema_context

from portal.liveview.media import media_token
from portal.liveview.models import DeviceEvent, Grant
from portal.liveview.services import grant_open
from portal.registry.models import Camera
from tests.liveview.grant_fixtures import (
    actor_of,
    heartbeat,
    live_camera,
    media_request,
    staff_member,
)

pytestmark = pytest.mark.django_db


def open_grant(live, staff=None, reason="active_threat"):
    staff = staff or staff_member()
    return grant_open(actor=actor_of(staff), camera=live.camera, reason=reason, case_number="C-1")


@pytest.mark.parametrize("carrier", ["token", "password", "query"])
def test_a_viewer_with_a_media_token_may_read_its_camera(concord_client, carrier):
    with schema_context("concord"):
        live = live_camera()
        grant = open_grant(live)
        token = media_token(grant)
    fields = {"query": f"foo=1&token={token}"} if carrier == "query" else {carrier: token}
    response = media_request(concord_client, path=f"camera/{live.camera.pk}", **fields)
    assert response.status_code == 200
    assert response.json() == {
        "grant": grant.pk,
        "publisher": f"device/{live.device.pk}/ch1",
        "device": live.device.pk,
        "channel": "ch1",
        "expires_at": grant.expires_at.isoformat(),
    }
    with schema_context("concord"):
        grant.refresh_from_db()
        assert grant.watched_from is not None
        assert grant.watched_until >= grant.watched_from


def test_every_read_extends_the_seconds_watched(concord_client):
    start = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        with schema_context("concord"):
            live = live_camera()
            grant = open_grant(live)
            token = media_token(grant)
        for _second in range(3):
            clock.shift(1)
            path = f"camera/{live.camera.pk}"
            assert media_request(concord_client, path=path, token=token).status_code == 200
    with schema_context("concord"):
        grant.refresh_from_db()
        assert grant.seconds_watched == 2


def test_the_relay_key_is_required(concord_client):
    with schema_context("concord"):
        live = live_camera()
        token = media_token(open_grant(live))
    path = f"camera/{live.camera.pk}"
    wrong = media_request(concord_client, key="guess", path=path, token=token)
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "wrong relay key"}
    assert (
        concord_client.post("/media/auth", "{}", content_type="application/json").status_code == 401
    )


def test_a_token_from_concord_is_refused_on_carrollton_with_the_same_ids(
    concord_client, carrollton_client
):
    ids = {"camera_id": 920_001, "user_id": 910_101}
    grants = {}
    for city in ("concord", "carrollton"):
        with schema_context(city):
            live = live_camera(camera_id=ids["camera_id"])
            staff = staff_member(user_id=910_001)
            grant = open_grant(live, staff)
            Grant.objects.filter(pk=grant.pk).update(id=930_001)
            grants[city] = Grant.objects.get(pk=930_001)
            assert grants[city].camera_id == 920_001
            assert grants[city].staff.user_id == 910_001
    with schema_context("concord"):
        token = media_token(grants["concord"])
    path = "camera/920001"
    assert media_request(concord_client, path=path, token=token).status_code == 200
    refused = media_request(carrollton_client, path=path, token=token)
    assert refused.status_code == 401
    assert refused.json() == {"error": "invalid media token"}
    with schema_context("carrollton"):
        assert Grant.objects.get(pk=930_001).watched_from is None


def test_a_token_for_camera_a_is_refused_on_camera_b(concord_client):
    with schema_context("concord"):
        live_a = live_camera(label="A")
        live_b = live_camera(label="B", email="bob@example.org")
        token_a = media_token(open_grant(live_a))
        open_grant(live_b, staff_member(email="other@example.org"))
    refused = media_request(concord_client, path=f"camera/{live_b.camera.pk}", token=token_a)
    assert refused.status_code == 403
    assert refused.json() == {"error": "media token is for another camera"}
    for path in ("", "camera/", f"camera/{live_a.camera.pk}/x", f"camera/0{live_a.camera.pk}"):
        assert media_request(concord_client, path=path, token=token_a).status_code == 403


def test_a_tampered_or_empty_token_is_refused(concord_client):
    with schema_context("concord"):
        live = live_camera()
        token = media_token(open_grant(live))
    path = f"camera/{live.camera.pk}"
    for bad in ("", token[:-2] + "xx", "x" * 10_000, token + ":"):
        assert media_request(concord_client, path=path, token=bad).status_code == 401


def test_publish_is_refused_without_a_grant_and_recorded_once_a_minute(concord_client):
    with schema_context("concord"):
        live = live_camera()
    path = f"device/{live.device.pk}/ch1"
    for _attempt in range(3):
        refused = media_request(
            concord_client, action="publish", path=path, password=live.credential
        )
        assert refused.status_code == 403
        assert refused.json() == {"error": "no open grant for this channel"}
    with schema_context("concord"):
        events = DeviceEvent.objects.filter(device=live.device, kind="publish_refused")
        assert events.count() == 1


def test_publish_is_allowed_while_a_grant_is_open_and_refused_after(concord_client):
    with schema_context("concord"):
        live = live_camera()
        grant = open_grant(live)
    path = f"device/{live.device.pk}/ch1"
    allowed = media_request(concord_client, action="publish", path=path, password=live.credential)
    assert allowed.status_code == 200
    assert allowed.json() == {"grant": grant.pk}
    # The bearer credential may come in "token" too.
    assert (
        media_request(
            concord_client, action="publish", path=path, token=live.credential
        ).status_code
        == 200
    )
    with schema_context("concord"):
        Camera.objects.filter(pk=live.camera.pk).update(paused=True)
    refused = media_request(concord_client, action="publish", path=path, password=live.credential)
    assert refused.status_code == 403
    with schema_context("concord"):
        grant.refresh_from_db()
        assert grant.ended_why == Grant.Ended.OWNER_PAUSED


def test_publish_with_a_wrong_credential_or_another_device_path(concord_client):
    with schema_context("concord"):
        live = live_camera()
        other = live_camera(email="bob@example.org")
        open_grant(other)
    wrong = media_request(
        concord_client,
        action="publish",
        path=f"device/{live.device.pk}/ch1",
        password=live.credential[:-3] + "abc",
    )
    assert wrong.status_code == 401
    # A device may publish only under its own path, even where another's grant is open.
    foreign = media_request(
        concord_client,
        action="publish",
        path=f"device/{other.device.pk}/ch1",
        password=live.credential,
    )
    assert foreign.status_code == 403


def test_a_device_credential_is_useless_on_another_city(carrollton_client):
    with schema_context("concord"):
        live = live_camera()
    response = media_request(carrollton_client, action="control", password=live.credential)
    assert response.status_code == 401


def test_control_answers_the_device(concord_client):
    with schema_context("concord"):
        live = live_camera()
        other = live_camera(email="bob@example.org")
    ok = media_request(concord_client, action="control", path="", password=live.credential)
    assert ok.status_code == 200
    assert ok.json() == {"device": live.device.pk}
    own = media_request(
        concord_client, action="control", path=f"device/{live.device.pk}", token=live.credential
    )
    assert own.status_code == 200
    foreign = media_request(
        concord_client, action="control", path=f"device/{other.device.pk}", password=live.credential
    )
    assert foreign.status_code == 403


def test_an_unknown_action_or_a_bad_body_is_a_clear_refusal(concord_client):
    assert media_request(concord_client, action="delete").status_code == 403
    for body in (b"", b"not json", b"[1, 2]", b'"x"', b"\xff\xfe", b"{" * 100_000):
        response = concord_client.post(
            "/media/auth?key=dev-only-media-auth-key", body, content_type="application/json"
        )
        assert response.status_code == 400
        assert "error" in response.json()
    assert concord_client.get("/media/auth?key=dev-only-media-auth-key").status_code == 405


def test_a_read_is_answered_in_a_few_queries(concord_client, django_assert_max_num_queries):
    with schema_context("concord"):
        live = live_camera()
        token = media_token(open_grant(live))
        heartbeat(live)
    media_request(concord_client, path=f"camera/{live.camera.pk}", token=token)
    # Routing the host (one, and two search_path changes), the grant with everything the rule
    # reads (one), the update (one).
    with django_assert_max_num_queries(5):
        response = media_request(concord_client, path=f"camera/{live.camera.pk}", token=token)
    assert response.status_code == 200


def test_a_token_replayed_from_another_address_is_refused(concord_client):
    with schema_context("concord"):
        live = live_camera()
        token = media_token(open_grant(live))
    path = f"camera/{live.camera.pk}"
    assert media_request(concord_client, path=path, token=token).status_code == 200
    replayed = media_request(concord_client, path=path, token=token, ip="198.51.100.4")
    assert replayed.status_code == 403
    assert "another address" in replayed.json()["error"]
