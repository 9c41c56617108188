"""Department administrators change staff roles and deactivate or reactivate accounts: each
change recorded once, a deactivated account signed out and unable to sign in, and the
department never left without an active administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_tenants.utils import schema_context

from portal.department.services import StaffChangeRefused, staff_role_set
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, StaffMember
from tests.conftest import STAFF_PASSWORD, Persona
from tests.liveview.ending_fixtures import viewer_make

pytestmark = pytest.mark.django_db


def member(email: str, schema_name: str = "concord") -> StaffMember:
    with schema_context(schema_name):
        return StaffMember.objects.select_related("user").get(user__email=email)


def entries(action: str) -> list[AuditEntry]:
    with schema_context("concord"):
        return list(AuditEntry.objects.filter(action=action))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_staff_page_offers_each_change_but_not_on_oneself(admin, investigator):
    page = admin.client.get("/department/staff/").content.decode()
    them, me = member(investigator.email), member(admin.email)
    assert f'action="/department/staff/{them.pk}/role/"' in page
    assert f"Deactivate {investigator.email}" in page
    assert f"Deactivate {admin.email}" not in page
    assert f'action="/department/staff/{me.pk}/deactivate/"' not in page


def test_an_administrator_changes_a_role_once(admin, investigator):
    them = member(investigator.email)
    url = f"/department/staff/{them.pk}/role/"

    first = admin.client.post(url, {"role": "analyst"}, follow=True)
    second = admin.client.post(url, {"role": "analyst"}, follow=True)

    assert f"{investigator.email} is now Analyst." in messages_of(first)
    assert f"{investigator.email} is already Analyst." in messages_of(second)
    assert member(investigator.email).role == "analyst"
    (entry,) = entries(AuditEntry.Action.STAFF_ROLE_CHANGE)
    assert entry.actor_email == admin.email
    assert entry.reason == f"{investigator.email} from investigator to analyst"
    # The new role's rights apply at the next request.
    assert investigator.client.get("/department/incidents/").status_code == 403


def test_an_unknown_role_is_refused(admin, investigator):
    them = member(investigator.email)
    response = admin.client.post(f"/department/staff/{them.pk}/role/", {"role": "chief"})
    assert response.status_code == 302
    assert member(investigator.email).role == "investigator"
    assert entries(AuditEntry.Action.STAFF_ROLE_CHANGE) == []


def test_an_administrator_cannot_demote_or_deactivate_themselves(admin):
    me = member(admin.email)

    demoted = admin.client.post(
        f"/department/staff/{me.pk}/role/", {"role": "analyst"}, follow=True
    )
    gone = admin.client.post(f"/department/staff/{me.pk}/deactivate/", follow=True)

    assert (
        "You cannot give up your own administrator role: another administrator can."
        in messages_of(demoted)
    )
    assert "You cannot deactivate your own account." in messages_of(gone)
    assert member(admin.email).role == "administrator"
    assert member(admin.email).user.is_active
    assert entries(AuditEntry.Action.STAFF_ROLE_CHANGE) == []
    assert entries(AuditEntry.Action.STAFF_DEACTIVATE) == []


def test_the_last_administrator_keeps_the_role(admin, concord_admin):
    # Concord's first administrator leaves; the one remaining cannot step down.
    first = member(concord_admin.email)
    admin.client.post(f"/department/staff/{first.pk}/deactivate/")
    me = member(admin.email)

    response = admin.client.post(
        f"/department/staff/{me.pk}/role/", {"role": "investigator"}, follow=True
    )

    assert (
        f"{admin.email} is the department's last administrator: make another staff member "
        "administrator first." in messages_of(response)
    )
    assert member(admin.email).role == "administrator"


def test_two_administrators_demoting_each_other_leave_one(admin, concord_admin):
    first = member(concord_admin.email)
    me = member(admin.email)
    # The first administrator's request was let in as an administrator; before it runs,
    # the other one demotes them.
    stale = Actor.of_staff(first, "203.0.113.9")
    admin.client.post(f"/department/staff/{first.pk}/role/", {"role": "investigator"})

    with schema_context("concord"), pytest.raises(StaffChangeRefused) as refused:
        staff_role_set(actor=stale, member=me, role="analyst")

    assert refused.value.message == "Only an active administrator can change staff accounts."
    assert member(admin.email).role == "administrator"


def test_a_deactivated_account_is_signed_out_and_cannot_sign_in(admin, investigator, sign_in):
    them = member(investigator.email)
    assert investigator.client.get("/department/").status_code == 200

    first = admin.client.post(f"/department/staff/{them.pk}/deactivate/", follow=True)
    second = admin.client.post(f"/department/staff/{them.pk}/deactivate/", follow=True)

    assert (
        f"The account of {investigator.email} is deactivated: they are signed out and cannot "
        "sign in." in messages_of(first)
    )
    assert f"The account of {investigator.email} is already deactivated." in messages_of(second)
    assert len(entries(AuditEntry.Action.STAFF_DEACTIVATE)) == 1
    assert investigator.client.get("/department/")["Location"].startswith("/accounts/login/")
    browser = Client(HTTP_HOST="concord.localhost")
    sign_in(browser, Persona(investigator.email, STAFF_PASSWORD, "concord"))
    assert browser.get("/department/")["Location"].startswith("/accounts/login/")
    page = admin.client.get("/department/staff/").content.decode()
    assert f"Reactivate {investigator.email}" in page


def test_a_reactivated_account_signs_in_again(admin, investigator, sign_in):
    them = member(investigator.email)
    admin.client.post(f"/department/staff/{them.pk}/deactivate/")

    response = admin.client.post(f"/department/staff/{them.pk}/reactivate/", follow=True)
    again = admin.client.post(f"/department/staff/{them.pk}/reactivate/", follow=True)

    assert f"The account of {investigator.email} is active again." in messages_of(response)
    assert f"The account of {investigator.email} is already active." in messages_of(again)
    assert len(entries(AuditEntry.Action.STAFF_REACTIVATE)) == 1
    browser = Client(HTTP_HOST="concord.localhost")
    sign_in(browser, Persona(investigator.email, STAFF_PASSWORD, "concord"))
    assert browser.get("/department/").status_code == 200


def test_only_administrators_change_staff(investigator, make_staff):
    operator = make_staff("concord", "operator")
    them = member(operator.email)
    for path, data in (("role/", {"role": "analyst"}), ("deactivate/", {}), ("reactivate/", {})):
        response = investigator.client.post(f"/department/staff/{them.pk}/{path}", data)
        assert response.status_code == 403
    assert member(operator.email).role == "operator"
    assert member(operator.email).user.is_active


def test_the_same_id_in_another_city_is_another_account(admin):
    viewer_make("concord", pk=72_000, role="operator", email="same@concord.example.org")
    carrollton = viewer_make(
        "carrollton", pk=72_000, role="operator", email="same@carrollton.example.org"
    )

    admin.client.post("/department/staff/72000/deactivate/")
    admin.client.post("/department/staff/72000/role/", {"role": "analyst"})

    with schema_context("carrollton"):
        user = get_user_model().objects.get(pk=72_000)
        assert user.is_active
        assert user.staff.role == "operator"
    assert carrollton.get("/department/").status_code == 200
    assert not member("same@concord.example.org").user.is_active


def test_the_staff_page_and_its_answers_are_in_spanish(admin, investigator):
    admin.client.cookies["django_language"] = "es"
    them = member(investigator.email)

    page = admin.client.get("/department/staff/").content.decode()
    response = admin.client.post(
        f"/department/staff/{them.pk}/role/", {"role": "analyst"}, follow=True
    )

    assert "Cambiar el rol" in page
    assert f"Desactivar a {investigator.email}" in page
    assert f"{investigator.email} tiene ahora el rol Analista." in messages_of(response)
