"""Invitations nobody accepted show as pending; an administrator sends one again (not twice in
a row) or revokes it (its link stops working); each change is recorded, and what another city
numbers the same cannot be touched from this one."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.services import INVITATION_RESEND_AFTER
from portal.registry.models import AuditEntry, StaffMember

pytestmark = pytest.mark.django_db


def invite(admin, email: str = "dana@concord.example.org", role: str = "analyst") -> StaffMember:
    response = admin.client.post("/department/staff/", {"email": email, "role": role})
    assert response.status_code == 302
    with schema_context(admin.schema_name):
        return StaffMember.objects.select_related("user").get(user__email=email)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def entries(action: str, schema_name: str = "concord") -> list[AuditEntry]:
    with schema_context(schema_name):
        return list(AuditEntry.objects.filter(action=action))


def test_an_invitation_nobody_accepted_shows_as_pending_with_its_actions(admin, investigator):
    dana = invite(admin)
    page = admin.client.get("/department/staff/").content.decode()
    assert "Invitation pending (sent" in page
    assert f'action="/department/staff/{dana.pk}/resend/"' in page
    assert f'action="/department/staff/{dana.pk}/revoke/"' in page
    # Staff who signed in are not pending and have no invitation to resend.
    with schema_context("concord"):
        them = StaffMember.objects.get(user__email=investigator.email)
    assert f'action="/department/staff/{them.pk}/resend/"' not in page
    assert f'action="/department/staff/{them.pk}/revoke/"' not in page


def test_a_resend_waits_after_the_last_invitation_and_is_recorded(
    admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dana = invite(admin)
    assert len(mail.outbox) == 1
    url = f"/department/staff/{dana.pk}/resend/"

    with django_capture_on_commit_callbacks(execute=True):
        too_soon = admin.client.post(url, follow=True)
    assert any("less than 10 minutes ago" in message for message in messages_of(too_soon))
    assert len(mail.outbox) == 1
    assert entries(AuditEntry.Action.STAFF_INVITE_RESEND) == []

    later = timezone.now() + INVITATION_RESEND_AFTER + timedelta(seconds=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        again = admin.client.post(url, follow=True)
    assert "The invitation went to dana@concord.example.org again." in messages_of(again)
    assert len(mail.outbox) == 2
    assert mail.outbox[1].to == ["dana@concord.example.org"]
    (entry,) = entries(AuditEntry.Action.STAFF_INVITE_RESEND)
    assert (entry.actor_email, entry.reason) == (admin.email, "dana@concord.example.org")


def test_a_revoked_invitation_is_gone_and_its_link_no_longer_works(
    admin, host_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dana = invite(admin)
    link = re.search(r"https?://\S+/password/reset/key/\S+", mail.outbox[0].body)
    assert link is not None
    path = "/" + link.group(0).split("/", 3)[3]

    response = admin.client.post(f"/department/staff/{dana.pk}/revoke/", follow=True)

    assert (
        "The invitation to dana@concord.example.org is revoked: its link no longer works."
        in messages_of(response)
    )
    with schema_context("concord"):
        assert not get_user_model().objects.filter(email="dana@concord.example.org").exists()
    (entry,) = entries(AuditEntry.Action.STAFF_INVITE_REVOKE)
    assert (entry.actor_email, entry.reason) == (admin.email, "dana@concord.example.org")
    opened = host_client("concord.localhost").get(path, follow=True)
    assert "dana@concord.example.org" not in opened.content.decode()
    assert b'name="password1"' not in opened.content
    # The same address can be invited again.
    assert invite(admin).user.email == "dana@concord.example.org"


def test_an_accepted_invitation_cannot_be_resent_or_revoked(admin, investigator):
    with schema_context("concord"):
        them = StaffMember.objects.get(user__email=investigator.email)
    for action in ("resend", "revoke"):
        response = admin.client.post(f"/department/staff/{them.pk}/{action}/", follow=True)
        assert f"{investigator.email} has already accepted the invitation." in messages_of(response)
    with schema_context("concord"):
        assert StaffMember.objects.filter(pk=them.pk).exists()
    assert entries(AuditEntry.Action.STAFF_INVITE_REVOKE) == []
    assert entries(AuditEntry.Action.STAFF_INVITE_RESEND) == []


def test_only_staff_who_manage_accounts_resend_or_revoke(admin, investigator):
    dana = invite(admin)
    for action in ("resend", "revoke"):
        assert investigator.client.post(f"/department/staff/{dana.pk}/{action}/").status_code == 403
    with schema_context("concord"):
        assert StaffMember.objects.filter(pk=dana.pk).exists()


def test_a_pending_invitee_gets_a_role_change(admin):
    dana = invite(admin)
    response = admin.client.post(
        f"/department/staff/{dana.pk}/role/", {"role": "investigator"}, follow=True
    )
    assert "dana@concord.example.org is now Investigator." in messages_of(response)
    (entry,) = entries(AuditEntry.Action.STAFF_ROLE_CHANGE)
    assert entry.reason == "dana@concord.example.org from analyst to investigator"


def test_the_guards_hold_oneself_and_the_last_administrator(admin):
    with schema_context("concord"):
        me = StaffMember.objects.get(user__email=admin.email)
        # The provisioned administrator leaves: this one is the last.
        StaffMember.objects.filter(role="administrator").exclude(pk=me.pk).update(role="analyst")
    deactivated = admin.client.post(f"/department/staff/{me.pk}/deactivate/", follow=True)
    demoted = admin.client.post(
        f"/department/staff/{me.pk}/role/", {"role": "analyst"}, follow=True
    )
    assert any("last administrator" in message for message in messages_of(deactivated))
    assert any("last administrator" in message for message in messages_of(demoted))
    with schema_context("concord"):
        me.refresh_from_db()
        assert me.role == "administrator" and me.user.is_active
    assert entries(AuditEntry.Action.STAFF_DEACTIVATE) == []
    assert entries(AuditEntry.Action.STAFF_ROLE_CHANGE) == []


def test_the_staff_list_is_paginated(admin):
    with schema_context("concord"):
        users = get_user_model().objects.bulk_create(
            get_user_model()(
                username=f"s{n:03d}@concord.example.org", email=f"s{n:03d}@concord.example.org"
            )
            for n in range(60)
        )
        StaffMember.objects.bulk_create(StaffMember(user=user, role="analyst") for user in users)
        total = StaffMember.objects.exclude(role="support").count()
    first = admin.client.get("/department/staff/").content.decode()
    second = admin.client.get("/department/staff/", {"page": "2"}).content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    shown = [
        email
        for email in (f"s{n:03d}@concord.example.org" for n in range(60))
        if email in first or email in second
    ]
    assert len(shown) == 60
    assert total == first.count("<tr>") - 1 + second.count("<tr>") - 1


def pending_member(schema_name: str, email: str, pk: int) -> StaffMember:
    """A pending invitee numbered `pk` in the city (ids repeat from city to city)."""
    with schema_context(schema_name):
        user = get_user_model().objects.create_user(username=email, email=email)
        return StaffMember.objects.create(pk=pk, user=user, role="analyst")


def test_a_staff_id_of_another_city_is_not_found_here(admin):
    theirs = pending_member("carrollton", "kim@carrollton.example.org", pk=900_001)
    for action, data in (
        ("revoke", {}),
        ("resend", {}),
        ("deactivate", {}),
        ("reactivate", {}),
        ("role", {"role": "investigator"}),
    ):
        response = admin.client.post(f"/department/staff/{theirs.pk}/{action}/", data)
        assert response.status_code == 404
    with schema_context("carrollton"):
        kim = StaffMember.objects.select_related("user").get(pk=theirs.pk)
        assert kim.role == "analyst" and kim.user.is_active and kim.is_pending


def test_an_id_both_cities_use_acts_on_this_citys_account_only(admin):
    theirs = pending_member("carrollton", "kim@carrollton.example.org", pk=900_002)
    ours = pending_member("concord", "lee@concord.example.org", pk=900_002)

    response = admin.client.post(f"/department/staff/{ours.pk}/revoke/", follow=True)

    assert (
        "The invitation to lee@concord.example.org is revoked: its link no longer works."
        in messages_of(response)
    )
    with schema_context("concord"):
        assert not StaffMember.objects.filter(pk=ours.pk).exists()
    with schema_context("carrollton"):
        assert StaffMember.objects.filter(pk=theirs.pk, user__email=theirs.user.email).exists()
        assert not AuditEntry.objects.filter(action="staff_invite_revoke").exists()


def test_a_deactivated_invitee_can_be_reactivated_not_resent(admin):
    dana = invite(admin)
    admin.client.post(f"/department/staff/{dana.pk}/deactivate/")
    page = admin.client.get("/department/staff/").content.decode()
    assert f'action="/department/staff/{dana.pk}/reactivate/"' in page
    assert f'action="/department/staff/{dana.pk}/resend/"' not in page
    refused = admin.client.post(f"/department/staff/{dana.pk}/resend/", follow=True)
    assert "The account of dana@concord.example.org is deactivated." in messages_of(refused)
    assert entries(AuditEntry.Action.STAFF_INVITE_RESEND) == []
