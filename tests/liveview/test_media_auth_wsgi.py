"""The relay's authorisation under gunicorn: canvass.wsgi answers POST /media/auth before
Django's middleware, with the same answer as the view (the city from the Host header, through a
cache of a few seconds per process), and hands every other request to Django."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django_tenants.utils import schema_context

from canvass.wsgi import application
from portal.liveview.media import media_token
from portal.liveview.services import grant_open
from tenants import middleware
from tenants.models import Department
from tests.liveview.grant_fixtures import IP, MEDIA_KEY, actor_of, live_camera, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_hosts():
    middleware._hosts.clear()
    yield
    middleware._hosts.clear()


def call(host: str, body: dict[str, Any] | bytes, *, key: str = MEDIA_KEY, path="/media/auth"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": f"key={key}",
        "HTTP_HOST": host,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "REMOTE_ADDR": "127.0.0.1",
    }
    started: list[str] = []
    chunks = application(environ, lambda status, headers: started.append(status))
    payload = b"".join(chunks)
    return int(started[0].split()[0]), json.loads(payload) if payload.startswith(b"{") else None


def read(live, token: str) -> dict[str, Any]:
    return {"action": "read", "path": f"camera/{live.camera.pk}", "token": token, "ip": IP}


@pytest.fixture
def concord_grant():
    with schema_context("concord"):
        live = live_camera()
        grant = grant_open(
            actor=actor_of(staff_member()),
            camera=live.camera,
            reason="active_threat",
            case_number="C-1",
        )
        return live, grant, media_token(grant)


def test_a_valid_read_is_answered_as_the_view_answers_it(concord_grant):
    live, grant, token = concord_grant
    status, answer = call("concord.localhost:8000", read(live, token))
    assert status == 200
    assert answer["grant"] == grant.pk
    assert answer["publisher"] == f"device/{live.device.pk}/ch1"
    with schema_context("concord"):
        grant.refresh_from_db()
        assert grant.watched_until is not None


def test_refusals_are_the_views_refusals(concord_grant):
    live, _grant, token = concord_grant
    assert call("concord.localhost", read(live, token), key="wrong")[0] == 401
    assert call("concord.localhost", b"not json")[0] == 400
    assert call("concord.localhost", {**read(live, token), "path": "camera/999999"})[0] == 403
    assert call("concord.localhost", {**read(live, token), "ip": "198.51.100.9"})[0] == 403


def test_the_same_token_is_refused_on_another_citys_host_with_the_same_ids(concord_grant):
    live, _grant, token = concord_grant
    with schema_context("carrollton"):
        twin = live_camera(camera_id=live.camera.pk)
        grant_open(
            actor=actor_of(staff_member()),
            camera=twin.camera,
            reason="active_threat",
            case_number="C-1",
        )
    status, answer = call("carrollton.localhost", read(live, token))
    assert status == 401 and answer == {"error": "invalid media token"}


def test_an_unknown_host_or_a_suspended_city_is_refused(concord_grant):
    live, _grant, token = concord_grant
    assert call("nowhere.localhost", read(live, token))[0] == 404
    Department.objects.filter(schema_name="concord").update(status=Department.Status.SUSPENDED)
    middleware._hosts.clear()
    assert call("concord.localhost", read(live, token)) == (403, {"error": "department suspended"})


def test_the_host_is_read_from_the_database_once_within_the_cache(
    concord_grant, django_assert_num_queries
):
    live, _grant, token = concord_grant
    call("concord.localhost", read(live, token))
    # The city cached and the connection already in its schema: the grant's read and the
    # UPDATE of the seconds watched, nothing else.
    with django_assert_num_queries(2):
        call("concord.localhost", read(live, token))


def test_every_other_request_goes_through_django(monkeypatch):
    import canvass.wsgi

    seen: list[tuple[str, str]] = []

    def django(environ, start_response):
        seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        start_response("302 Found", [])
        return [b""]

    monkeypatch.setattr(canvass.wsgi, "django_application", django)
    assert call("concord.localhost", {}, path="/department/")[0] == 302
    environ_get = {"REQUEST_METHOD": "GET", "PATH_INFO": "/media/auth"}
    canvass.wsgi.application(environ_get, lambda status, headers: None)
    assert seen == [("POST", "/department/"), ("GET", "/media/auth")]


def test_unknown_hosts_are_not_kept_in_the_cache(concord_grant):
    live, _grant, token = concord_grant
    for number in range(5):
        assert call(f"nowhere-{number}.localhost", read(live, token))[0] == 404
    assert call("concord.localhost", read(live, token))[0] == 200
    assert set(middleware._hosts) == {"concord.localhost"}
