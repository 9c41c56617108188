"""Administrators invite staff with a role; the invitee chooses a password from the email."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django_tenants.utils import schema_context

from portal.registry.models import AuditEntry, StaffMember

pytestmark = pytest.mark.django_db


def test_an_administrator_invites_an_analyst(
    make_staff, host_client, django_capture_on_commit_callbacks
):
    admin = make_staff("concord", "administrator")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.client.post(
            "/department/staff/", {"email": "Dana@Concord.example.org", "role": "analyst"}
        )
    assert response.status_code == 302
    with schema_context("concord"):
        member = StaffMember.objects.get(user__email="dana@concord.example.org")
        assert member.role == "analyst"
        assert not member.user.has_usable_password()
        assert AuditEntry.objects.get().action == AuditEntry.Action.STAFF_INVITE
    message = mail.outbox[0]
    assert message.to == ["dana@concord.example.org"]
    link = re.search(
        r"http://concord\.localhost:8000(/accounts/password/reset/key/\S+)", message.body
    )
    client = host_client("concord.localhost")
    page = client.get(link.group(1), follow=True)
    assert page.status_code == 200
    response = client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else link.group(1),
        {"password1": "a-new-and-long-passphrase", "password2": "a-new-and-long-passphrase"},
    )
    assert response.status_code == 302
    with schema_context("concord"):
        assert get_user_model().objects.get(email="dana@concord.example.org").has_usable_password()


def test_an_existing_email_is_refused(make_staff):
    admin = make_staff("concord", "administrator")
    response = admin.client.post(
        "/department/staff/", {"email": "administrator@concord.example.org", "role": "analyst"}
    )
    assert "This email already has an account in this department." in response.content.decode()


def test_an_invalid_role_is_refused(make_staff):
    admin = make_staff("concord", "administrator")
    response = admin.client.post("/department/staff/", {"email": "e@x.org", "role": "chief"})
    assert "Select a valid choice." in response.content.decode()
    with schema_context("concord"):
        assert not StaffMember.objects.filter(user__email="e@x.org").exists()


def test_provisioning_makes_the_first_administrator_a_staff_administrator():
    with schema_context("concord"):
        member = StaffMember.objects.get(user__email="admin@concord.example.org")
        assert member.role == "administrator"
