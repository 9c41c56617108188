"""An administrator invites a council member or auditor with the oversight role; they choose a
password, and the console asks for a second factor before any oversight page."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from portal.registry.models import AuditEntry, Capability, StaffMember
from tests.conftest import STAFF_PASSWORD, totp_now

pytestmark = pytest.mark.django_db


def test_an_administrator_invites_an_oversight_member(
    admin, host_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.client.post(
            "/department/staff/", {"email": "Council@Concord.example.org", "role": "oversight"}
        )
    assert response.status_code == 302
    with schema_context("concord"):
        member = StaffMember.objects.get(user__email="council@concord.example.org")
        assert member.role == StaffMember.Role.OVERSIGHT
        assert member.capabilities == frozenset({Capability.OVERSEE})
        invite = AuditEntry.objects.get(action=AuditEntry.Action.STAFF_INVITE)
        assert invite.reason == "council@concord.example.org as oversight"
    assert mail.outbox[0].to == ["council@concord.example.org"]
    assert re.search(r"/accounts/password/reset/key/\S+", mail.outbox[0].body)


def test_the_staff_page_offers_the_oversight_role(admin):
    page = admin.client.get("/department/staff/").content.decode()
    assert 'value="oversight"' in page
    assert "Oversight (council member or auditor)" in page


def test_an_oversight_member_cannot_invite_anyone(overseer):
    response = overseer.client.post(
        "/department/staff/", {"email": "friend@example.org", "role": "administrator"}
    )
    assert response.status_code == 403
    with schema_context("concord"):
        assert not StaffMember.objects.filter(user__email="friend@example.org").exists()


def test_a_password_alone_does_not_open_the_oversight_pages(make_staff):
    member = make_staff("concord", "oversight", signed_in=False)
    response = member.client.post(
        "/accounts/login/", {"login": member.email, "password": STAFF_PASSWORD}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert member.client.get("/department/oversight/").status_code == 302
    member.client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
    assert member.client.get("/department/oversight/").status_code == 200


def test_an_oversight_member_without_a_second_factor_must_set_one_up(make_staff):
    member = make_staff("concord", "oversight", mfa=False)
    response = member.client.get("/department/oversight/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    assert member.client.get("/department/oversight/findings/")["Location"] == (
        "/accounts/2fa/totp/activate/"
    )
