"""The device API against its OpenAPI description: every described route exists and answers
with a described status, every route of the API is described; malformed JSON, wrong types and
hostile bodies get a JSON 400 (or 401), never a server error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.urls import URLPattern, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.liveview import urls_api

pytestmark = pytest.mark.django_db

DESCRIPTION = json.loads(
    (Path(__file__).parents[2] / "portal" / "liveview" / "openapi.json").read_text()
)
PREFIX = "/api/device/v1"
BEAT = {"channels": [{"key": "ch1", "name": "Front"}], "paused": False, "bridge_version": "1.0"}


def described() -> dict[str, set[str]]:
    return {path: set(operations) for path, operations in DESCRIPTION["paths"].items()}


def test_the_description_is_openapi_3_1_served_by_the_api(host_client):
    assert DESCRIPTION["openapi"].startswith("3.1")
    assert DESCRIPTION["servers"][0]["url"] == PREFIX
    served = host_client("concord.localhost").get(f"{PREFIX}/openapi.json")
    assert served.status_code == 200 and served["Content-Type"] == "application/json"
    assert served.json() == DESCRIPTION


def test_every_api_route_is_described_and_every_described_route_exists():
    routes = {f"/{pattern.pattern}" for pattern in urls_api.urlpatterns}
    assert routes == set(described())
    tenant_routes = {
        str(pattern.pattern) for pattern in get_resolver("canvass.urls_tenant").url_patterns
    }
    assert "api/device/v1/" in tenant_routes
    assert all(isinstance(pattern, URLPattern) for pattern in urls_api.urlpatterns)


def test_every_route_answers_as_described(device_paired, device_api, host_client):
    """Each described operation with a good request answers its 2xx; a wrong method 405; each
    authenticated one 401 without a credential; each described error is JSON."""
    client = host_client("concord.localhost")
    good = {
        ("/heartbeat", "post"): lambda: device_api(
            "concord", "heartbeat", BEAT, credential=device_paired.credential
        ),
        ("/openapi.json", "get"): lambda: client.get(f"{PREFIX}/openapi.json"),
    }
    for path, operations in DESCRIPTION["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "405" in responses
            wrong = client.put(f"{PREFIX}{path}", "{}", content_type="application/json")
            assert wrong.status_code == 405 and "error" in wrong.json()
            if operation["security"]:
                assert "401" in responses
                bare = client.generic(method.upper(), f"{PREFIX}{path}", "{}")
                assert bare.status_code == 401 and "error" in bare.json()
            if (path, method) in good:
                answer = good[(path, method)]()
                assert str(answer.status_code) in responses
                schema = responses[str(answer.status_code)]["content"]["application/json"]
                required = _schema(schema["schema"]).get("required", [])
                assert set(required) <= set(answer.json())
    # The claim and the rotation, last: each changes the credential.
    from django_tenants.utils import schema_context

    from portal.liveview.devices import claim_code_issue

    with schema_context("concord"):
        code = claim_code_issue(actor=device_paired.owner.actor(), site=device_paired.owner.site())
    claimed = device_api("concord", "claim", {"code": code})
    claim_responses = DESCRIPTION["paths"]["/claim"]["post"]["responses"]
    assert str(claimed.status_code) in claim_responses
    assert set(
        _schema(claim_responses["201"]["content"]["application/json"]["schema"])["required"]
    ) <= set(claimed.json())
    rotated = device_api("concord", "credential", credential=device_paired.credential)
    assert rotated.status_code == 200 and set(rotated.json()) == {"credential"}


def _schema(schema: dict) -> dict:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return DESCRIPTION["components"]["schemas"][name]
    return schema


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"channels": "ch1"}', '"channels" must be a list'),
        (b'{"channels": [], "paused": "yes"}', '"paused" must be true or false'),
        (b'{"channels": [], "paused": 1}', '"paused" must be true or false'),
        (b'{"channels": [], "bridge_version": 3}', '"bridge_version" must be a string'),
        (b'{"channels": [{"name": "x"}]}', 'channels[0]: "key" is required'),
        (b'{"channels": [{"key": true}]}', 'channels[0]: "key" must be a string'),
        (b'{"channels": ["ch1"]}', "channels[0] must be an object"),
        (b'{"channels": [{"key": "a/b"}]}', "may not contain '/'"),
        (b'{"channels": [{"key": "a"}, {"key": "a"}]}', "reported once"),
        (b'{"channels": [{"key": "' + b"x" * 41 + b'"}]}', "at most 40"),
        (b'{"channels": [{"key": "a\\u0000"}]}', "NUL"),
        (b"{}", '"channels" is required'),
    ],
)
def test_a_bad_heartbeat_is_a_json_400_that_says_what_is_wrong(
    device_paired, device_api, body, message
):
    answer = device_api("concord", "heartbeat", raw=body, credential=device_paired.credential)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"nope", "not valid JSON"),
        (b'{"code": 12}', '"code" must be a string'),
        (b'{"hostname": "x"}', '"code" is required'),
        (b'{"code": "' + b"A" * 41 + b'"}', "at most 40"),
    ],
)
def test_a_bad_claim_is_a_json_400(device_api, db, body, message):
    answer = device_api("concord", "claim", raw=body)
    assert answer.status_code == 400
    assert message in answer.json()["error"]


def test_an_oversized_body_is_refused(device_paired, device_api):
    body = json.dumps({"channels": [], "pad": "x" * 100_000})
    answer = device_api("concord", "heartbeat", raw=body, credential=device_paired.credential)
    assert answer.status_code == 400 and "too large" in answer.json()["error"]


def test_the_api_sets_no_cookie(device_paired, device_api):
    answer = device_api("concord", "heartbeat", BEAT, credential=device_paired.credential)
    assert answer.status_code == 200 and not answer.cookies


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "code": JSON | st.text(alphabet="ABCDEFGHJKMNPQRSTUVWXYZ23456789-", max_size=16),
        "bridge_version": JSON,
        "hostname": JSON,
        "paused": JSON,
        "channels": JSON
        | st.lists(st.fixed_dictionaries({}, optional={"key": JSON, "name": JSON}), max_size=4),
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=st.sampled_from(["claim", "heartbeat", "credential"]),
    body=FIELDS | JSON,
    raw=st.none() | st.binary(max_size=64),
    authorised=st.booleans(),
)
def test_no_body_makes_the_api_fail(device_paired, device_api, route, body, raw, authorised):
    with transaction.atomic():
        answer = device_api(
            "concord",
            route,
            body,
            raw=raw,
            credential=device_paired.credential if authorised else "cvd_" + "x" * 30,
        )
        transaction.set_rollback(True)
    connection.set_schema_to_public()
    assert answer.status_code in {200, 201, 400, 401, 404, 429}, answer.content
    assert "error" in answer.json() or answer.status_code in {200, 201}
