"""Vendor staff roles: administrators set them (recorded), each role reaches what it may, and
the billing console follows the role (the older billing permission still counts)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from console.access import vendor_role
from console.models import PlatformAuditEntry, VendorStaff

pytestmark = pytest.mark.django_db


def role_of(email: str) -> str | None:
    with schema_context("public"):
        return vendor_role(get_user_model().objects.get(email=email))


@pytest.mark.parametrize(
    ("role", "staff_page", "audit_page", "billing_page", "departments"),
    [
        ("support", 403, 403, 403, 200),
        ("billing", 403, 403, 200, 200),
        ("administrator", 200, 200, 200, 200),
    ],
)
def test_each_role_reaches_what_it_may(
    make_vendor, role, staff_page, audit_page, billing_page, departments
):
    client = make_vendor(role).client
    assert client.get("/console/staff/").status_code == staff_page
    assert client.get("/console/audit/").status_code == audit_page
    assert client.get("/console/billing/").status_code == billing_page
    assert client.get("/console/").status_code == departments
    nav = client.get("/console/").content
    assert (b'href="/console/staff/"' in nav) == (staff_page == 200)
    assert (b'href="/console/billing/"' in nav) == (billing_page == 200)


def test_an_administrator_changes_a_role_and_it_is_recorded(make_vendor):
    administrator = make_vendor("administrator")
    make_vendor("support")
    with schema_context("public"):
        member = get_user_model().objects.get(email="support@canvass.example.org")
    response = administrator.client.post(
        "/console/staff/", {"member": member.pk, "role": "billing"}
    )
    assert response.status_code == 302
    assert role_of(member.email) == "billing"
    with schema_context("public"):
        entry = PlatformAuditEntry.objects.get(action="vendor_role_change")
    assert entry.actor_email == administrator.email
    assert entry.detail == {"member": member.email, "from": "support", "to": "billing"}


def test_the_new_role_applies_at_once(make_vendor):
    administrator = make_vendor("administrator")
    support = make_vendor("support")
    assert support.client.get("/console/billing/").status_code == 403
    administrator.client.post("/console/staff/", {"member": support.pk, "role": "billing"})
    assert support.client.get("/console/billing/").status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role": "owner"}, "Choose support, billing or administrator."),
        ({"role": "billing", "member": "x"}, "Choose support, billing or administrator."),
    ],
)
def test_bad_role_changes_are_refused(make_vendor, data, message):
    administrator = make_vendor("administrator")
    support = make_vendor("support")
    response = administrator.client.post("/console/staff/", {"member": support.pk} | data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert role_of(support.email) == "support"


def test_nobody_changes_their_own_role(make_vendor):
    administrator = make_vendor("administrator")
    response = administrator.client.post(
        "/console/staff/", {"member": administrator.pk, "role": "support"}
    )
    assert response.status_code == 400
    assert "You cannot change your own role" in response.content.decode()
    assert role_of(administrator.email) == "administrator"


def test_support_staff_cannot_change_roles(make_vendor):
    support = make_vendor("support")
    other = make_vendor("billing")
    response = support.client.post("/console/staff/", {"member": other.pk, "role": "administrator"})
    assert response.status_code == 403
    assert role_of(other.email) == "billing"
    with schema_context("public"):
        assert not PlatformAuditEntry.objects.filter(action="vendor_role_change").exists()


def test_the_demo_vendor_is_a_superuser_and_so_an_administrator(vendor):
    assert role_of(vendor.email) == "administrator"
    with schema_context("public"):
        assert not VendorStaff.objects.filter(user__email=vendor.email).exists()


def test_billing_license_reminders_go_to_the_billing_roles(make_vendor):
    from billing.licenses import billing_staff_emails

    make_vendor("billing")
    make_vendor("support")
    emails = billing_staff_emails()
    assert "billing@canvass.example.org" in emails
    assert "support@canvass.example.org" not in emails
