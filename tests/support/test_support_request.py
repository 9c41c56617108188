"""Vendor staff request a support session on the platform, with a reason, for a limited time;
bad input is refused with a specific message and creates nothing."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from console.models import PlatformAuditEntry, SupportSession
from tests.support.conftest import REASON, department_pk, last_session, support_request

pytestmark = pytest.mark.django_db


def sessions() -> int:
    with schema_context("public"):
        return SupportSession.objects.count()


def test_support_staff_request_a_session_of_one_hour_by_default(make_vendor):
    vendor = make_vendor("support")
    response = support_request(vendor, minutes="")
    assert response.status_code == 302
    session = last_session()
    assert session.reason == REASON
    assert session.vendor_email == vendor.email
    assert (session.expires_at - session.requested_at).total_seconds() == 3600
    assert session.access == "read" and session.write_requested_at is None
    page = vendor.client.get(response["Location"])
    assert REASON in page.content.decode()
    assert b"Enter the console" in page.content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "Give the reason for this support session."),
        ({"reason": "   "}, "Give the reason for this support session."),
        ({"reason": "help"}, "in at least 15 characters"),
        ({"minutes": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"minutes": "241"}, "Ensure this value is less than or equal to 240."),
        ({"minutes": "soon"}, "Enter a whole number."),
    ],
)
def test_bad_requests_are_refused_with_a_specific_message(make_vendor, data, message):
    vendor = make_vendor("support")
    response = support_request(vendor, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert sessions() == 0


def test_a_session_past_its_time_cannot_be_entered_and_says_so(make_vendor, time_machine):
    vendor = make_vendor("support")
    support_request(vendor, minutes="30")
    session = last_session()
    time_machine.move_to(session.expires_at)
    response = vendor.client.post(f"/console/support/{session.pk}/enter/", follow=True)
    assert "This support session expired at" in response.content.decode()


def test_billing_staff_may_not_request_a_session(make_vendor):
    vendor = make_vendor("billing")
    page = f"/console/departments/{department_pk('concord')}/support/"
    assert vendor.client.get(page).status_code == 403
    assert support_request(vendor).status_code == 403
    assert sessions() == 0


def test_vendor_staff_cannot_use_another_vendors_session(make_vendor):
    support_request(make_vendor("support"))
    other = make_vendor("support", email="other@canvass.example.org")
    session = last_session()
    assert other.client.post(f"/console/support/{session.pk}/enter/").status_code == 403
    assert other.client.post(f"/console/support/{session.pk}/end/").status_code == 403


def test_a_suspended_department_has_no_console_to_enter(make_vendor):
    from tenants.models import Department

    vendor = make_vendor("support")
    with schema_context("public"):
        Department.objects.filter(schema_name="carrollton").update(status="suspended")
    response = support_request(vendor, "carrollton")
    assert response.status_code == 400
    assert "not open" in response.content.decode()
    assert sessions() == 0


def test_the_request_is_in_the_platform_audit_log(make_vendor):
    vendor = make_vendor("support")
    support_request(vendor, write="on")
    with schema_context("public"):
        entry = PlatformAuditEntry.objects.get(action="support_request")
    assert entry.actor_email == vendor.email
    assert entry.department_schema == "concord"
    assert entry.detail["reason"] == REASON and entry.detail["write_requested"] is True


def test_the_panel_renders_on_its_own(make_vendor, rf):
    """The department page includes the panel with only `department` and `request`."""
    from django.contrib.auth import get_user_model
    from django.template.loader import render_to_string
    from django.urls import set_urlconf

    from tenants.models import Department

    vendor = make_vendor("support")
    support_request(vendor)
    set_urlconf("canvass.urls_public")
    with schema_context("public"):
        request = rf.get("/console/")
        request.user = get_user_model().objects.get(pk=vendor.pk)
        department = Department.objects.get(schema_name="concord")
        html = render_to_string(
            "console/department_support_panel.html",
            {"department": department, "request": request},
        )
    set_urlconf(None)
    assert REASON in html and "Request a support session" in html
