"""The relay's authorisation endpoint never answers 500, whatever it is sent: any JSON shape,
any types in MediaMTX's fields, any bytes; a refusal is a 4xx with a JSON error."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from django_tenants.utils import schema_context
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.liveview.media import media_token
from portal.liveview.services import grant_open
from tests.liveview.grant_fixtures import MEDIA_KEY, actor_of, live_camera, staff_member

pytestmark = pytest.mark.django_db

FIELDS = ["user", "password", "token", "ip", "action", "path", "protocol", "id", "query"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
texts = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        ["read", "publish", "control", "camera/1", "device/1/ch1", "device/1", "token=x", "\x00"]
    ),
)
bodies = st.dictionaries(st.sampled_from(FIELDS), st.one_of(texts, json_values), max_size=9)


@pytest.fixture
def world(concord_client):
    with schema_context("concord"):
        live = live_camera()
        grant = grant_open(
            actor=actor_of(staff_member()),
            camera=live.camera,
            reason="active_threat",
            case_number="1",
        )
        token = media_token(grant)
    return concord_client, live, token


def answer_is_sound(response) -> None:
    assert response.status_code in (200, 400, 401, 403), response.status_code
    body = response.json()
    assert isinstance(body, dict)
    if response.status_code != 200:
        assert isinstance(body.get("error"), str)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies, use_token=st.booleans(), use_credential=st.booleans())
def test_any_json_object_gets_a_sound_answer(world, body, use_token, use_credential):
    client, live, token = world
    if use_token:
        body["token"] = token
    if use_credential:
        body["password"] = live.credential
    response = client.post(
        f"/media/auth?key={MEDIA_KEY}", json.dumps(body), content_type="application/json"
    )
    answer_is_sound(response)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=2000), key=st.one_of(st.just(MEDIA_KEY), st.text(max_size=40)))
def test_any_bytes_get_a_sound_answer(world, raw, key):
    client, _live, _token = world
    response = client.post(
        "/media/auth", raw, content_type="application/json", QUERY_STRING=f"key={quote(key)}"
    )
    answer_is_sound(response)
