"""Suspend and reactivate from the vendor console: the portal shows a notice, sign-ins, the
device API and live video are refused, open live views end, the jobs skip the city, the data
stays; reactivating brings it all back. Every action is in the platform audit log."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django_tenants.utils import schema_context

from console.models import PlatformAuditEntry
from portal.liveview.media import media_token
from portal.liveview.models import Grant
from portal.liveview.services import grant_open
from tenants import middleware
from tenants.models import Department
from tests.lifecycle.conftest import department_id
from tests.liveview.grant_fixtures import actor_of, live_camera, staff_member
from tests.liveview.test_media_auth_wsgi import call, read

pytestmark = pytest.mark.django_db


def suspend(console, schema_name="concord", reason="License unpaid since March"):
    return console.post(
        f"/console/departments/{department_id(schema_name)}/suspend/", {"reason": reason}
    )


def test_a_suspended_city_shows_a_notice_and_refuses_sign_in(
    console, concord_client, concord_admin, sign_in
):
    response = suspend(console)
    assert response.status_code == 302
    assert Department.objects.get(schema_name="concord").status == Department.Status.SUSPENDED
    landing = concord_client.get("/")
    assert landing.status_code == 503
    sign_in_page = sign_in(concord_client, concord_admin)
    assert sign_in_page.status_code == 503
    assert "_auth_user_id" not in concord_client.session
    assert concord_client.get("/department/").status_code == 503
    # The device API and the media authorisation through Django are closed too.
    assert concord_client.post("/api/device/v1/heartbeat", {}).status_code == 503
    assert concord_client.post("/media/auth?key=x", {}).status_code == 503
    # Another city is untouched.
    carrollton = console.get("/", HTTP_HOST="carrollton.localhost")
    assert carrollton.status_code == 200


def test_the_data_is_kept_and_reactivation_opens_the_portal_again(
    console, make_resident, site_data, concord_client, concord_admin, sign_in
):
    alice = make_resident("concord", email="alice-kept@example.org")
    alice.client.post("/register/", site_data())
    suspend(console)
    with schema_context("concord"):
        from portal.registry.models import Site

        assert Site.objects.filter(participant__user__email="alice-kept@example.org").exists()
    response = console.post(f"/console/departments/{department_id('concord')}/reactivate/")
    assert response.status_code == 302
    assert concord_client.get("/").status_code == 200
    assert sign_in(concord_client, concord_admin).status_code == 302
    assert "_auth_user_id" in concord_client.session
    assert alice.client.get("/my/").status_code == 200
    actions = list(
        PlatformAuditEntry.objects.filter(department_schema="concord").values_list(
            "action", "detail"
        )[:2]
    )
    assert actions == [
        (PlatformAuditEntry.Action.DEPARTMENT_REACTIVATE, {}),
        (PlatformAuditEntry.Action.DEPARTMENT_SUSPEND, {"reason": "License unpaid since March"}),
    ]


def test_open_live_views_end_at_once_even_where_the_city_is_cached(console):
    """The relay's lean authorisation trusts its cached city for a few seconds; the grant's end
    refuses the picture anyway, at the next check."""
    with schema_context("concord"):
        live = live_camera()
        grant = grant_open(
            actor=actor_of(staff_member()),
            camera=live.camera,
            reason="active_threat",
            case_number="C-9",
        )
        token = media_token(grant)
    middleware._hosts.clear()
    assert call("concord.localhost", read(live, token))[0] == 200  # the city is now cached
    suspend(console)
    status, answer = call("concord.localhost", read(live, token))
    assert status == 403, answer
    with schema_context("concord"):
        grant.refresh_from_db()
        assert grant.ended_why == Grant.Ended.SUSPENDED
        from portal.registry.models import AuditEntry

        assert AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED_END).exists()
    middleware._hosts.clear()


def test_a_second_suspension_says_it_already_is(console):
    suspend(console)
    again = suspend(console, reason="Again")
    assert again.status_code == 400
    assert "Concord Police Department is already suspended." in again.content.decode()
    assert (
        PlatformAuditEntry.objects.filter(
            department_schema="concord", action=PlatformAuditEntry.Action.DEPARTMENT_SUSPEND
        ).count()
        == 1
    )


def test_reactivating_an_active_city_says_it_is_not_suspended(console):
    response = console.post(f"/console/departments/{department_id('concord')}/reactivate/")
    assert response.status_code == 400
    assert "Concord Police Department is not suspended." in response.content.decode()


def test_a_suspension_needs_a_reason(console):
    response = suspend(console, reason="   ")
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert Department.objects.get(schema_name="concord").status == Department.Status.ACTIVE


@pytest.mark.parametrize(
    "command", ["uploads_sweep", "registry_verify", "access_notices", "liveview_devices_check"]
)
def test_a_suspended_city_s_jobs_are_skipped(console, command):
    suspend(console)
    out = io.StringIO()
    call_command(command, stdout=out)
    lines = out.getvalue()
    assert "carrollton:" in lines
    assert "concord:" not in lines


def test_checks_that_change_nothing_still_cover_a_suspended_city(console):
    suspend(console)
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    assert "concord: intact" in out.getvalue()
