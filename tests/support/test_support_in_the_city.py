"""Inside the city: a support session reads an administrator's pages without owners' personal
data, writes only once the department's administrator approved it (and every write is in the
city's trail as the support identity with the session), and is out when its time is over."""

from __future__ import annotations

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from console.models import PlatformAuditEntry, SupportSession
from portal.registry.models import AuditEntry
from tests.support.conftest import REASON

pytestmark = pytest.mark.django_db

LIMITS = {"limits": "1", "clips_per_link_max": "7", "megabytes_per_link_max": "300"}


def city_entries(schema: str = "concord", **filters: object) -> list[AuditEntry]:
    with schema_context(schema):
        return list(AuditEntry.objects.filter(**filters).order_by("pk"))


@pytest.mark.parametrize(
    "path", ["/department/", "/department/staff/", "/department/audit/", "/department/settings/"]
)
def test_a_read_only_session_reads_an_administrators_pages(in_support, path):
    assert in_support().city.get(path).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/department/registry.csv",  # owners' locations
        "/department/registry.geojson",
        "/department/device-subscriptions/",  # addresses
        "/department/incidents/",  # casework: never
        "/department/live/",  # live view: never
    ],
)
def test_a_read_only_session_gets_no_personal_data_nor_casework(in_support, path):
    assert in_support().city.get(path).status_code == 403


def test_a_read_only_session_cannot_post(in_support):
    session = in_support()
    response = session.city.post("/department/settings/", LIMITS)
    assert response.status_code == 403
    assert "This support session is read-only" in response.content.decode()
    with schema_context("concord"):
        from tenants.models import Department

        assert Department.objects.get(schema_name="concord").program.clips_per_link_max != 7


def test_after_the_administrator_approves_write_a_post_works_and_is_audited(in_support, admin):
    session = in_support(write="on")
    page = admin.client.get("/department/support/")
    assert page.status_code == 200
    assert REASON in page.content.decode() and b"write access requested" in page.content
    response = admin.client.post(f"/department/support/{session.session_id}/approve/")
    assert response.status_code == 302
    home = session.city.get("/department/")
    assert "write access approved" in home.content.decode()

    response = session.city.post("/department/settings/", LIMITS)
    assert response.status_code == 302
    from tenants.models import Department

    with schema_context("public"):
        assert Department.objects.get(schema_name="concord").program.clips_per_link_max == 7
    [action] = city_entries(action="support_action")
    assert action.actor_email == session.vendor.email
    assert action.actor_role == "support"
    assert action.support_session_id == session.session_id
    assert action.reason == "POST /department/settings/ answered 302"
    [approved] = city_entries(action="support_write")
    assert approved.actor_email == admin.email and approved.support_session_id == session.session_id
    with schema_context("public"):
        row = SupportSession.objects.get(pk=session.session_id)
        assert row.approved_by == admin.email and row.access == "write"
        assert PlatformAuditEntry.objects.filter(action="support_write_approved").count() == 1


def test_with_write_access_personal_data_reads_are_audited_as_the_session(in_support, admin):
    session = in_support(write="on")
    admin.client.post(f"/department/support/{session.session_id}/approve/")
    assert session.city.get("/department/registry.csv").status_code == 200
    [export] = city_entries(action="export")
    assert export.actor_role == "support" and export.support_session_id == session.session_id


def test_even_with_write_access_support_never_manages_staff(in_support, admin):
    session = in_support(write="on")
    admin.client.post(f"/department/support/{session.session_id}/approve/")
    invite = {"email": "new@concord.example.org", "role": "administrator"}
    assert session.city.post("/department/staff/", invite).status_code == 403
    assert session.city.get("/department/support/").status_code == 403
    approve = session.city.post(f"/department/support/{session.session_id}/approve/")
    assert approve.status_code == 403
    page = session.city.get("/department/staff/").content.decode()
    assert page.count(session.vendor.email) == 1  # who is signed in; not a staff member


def test_approving_needs_a_request_for_write_access(in_support, admin):
    session = in_support()
    response = admin.client.post(f"/department/support/{session.session_id}/approve/", follow=True)
    assert "has not asked for write access" in response.content.decode()
    assert session.city.post("/department/settings/", LIMITS).status_code == 403


def test_an_expired_session_is_out_with_a_message(in_support, time_machine):
    session = in_support()
    with schema_context("public"):
        expires_at = SupportSession.objects.get(pk=session.session_id).expires_at
    time_machine.move_to(expires_at)
    response = session.city.get("/department/")
    assert response.status_code == 403
    assert "Support session over" in response.content.decode()
    assert session.city.get("/department/").status_code == 302  # signed out
    with schema_context("public"):
        row = SupportSession.objects.get(pk=session.session_id)
        assert row.ended_why == "expired" and row.ended_at == expires_at
        assert PlatformAuditEntry.objects.filter(action="support_end").count() == 1
    [end] = city_entries(action="support_end")
    assert end.support_session_id == session.session_id


def test_the_administrator_ends_a_session(in_support, admin):
    session = in_support()
    response = admin.client.post(f"/department/support/{session.session_id}/end/")
    assert response.status_code == 302
    assert session.city.get("/department/").status_code == 403
    with schema_context("public"):
        row = SupportSession.objects.get(pk=session.session_id)
        assert row.ended_why == "department" and row.ended_by == admin.email
    again = admin.client.post(f"/department/support/{session.session_id}/end/", follow=True)
    assert "already ended" in again.content.decode()


def test_the_vendor_ends_a_session(in_support):
    session = in_support()
    response = session.vendor.client.post(f"/console/support/{session.session_id}/end/")
    assert response.status_code == 302
    assert session.city.get("/department/").status_code == 403
    with schema_context("public"):
        assert SupportSession.objects.get(pk=session.session_id).ended_why == "vendor"
        entry = PlatformAuditEntry.objects.get(action="support_end")
        assert entry.actor_email == session.vendor.email


def test_another_citys_administrator_cannot_touch_the_session(in_support, make_staff):
    session = in_support("concord")
    carrollton = make_staff("carrollton", "administrator")
    response = carrollton.client.post(f"/department/support/{session.session_id}/end/", follow=True)
    assert "There is no such support session" in response.content.decode()
    assert b"Ticket 4711" not in carrollton.client.get("/department/support/").content
    assert session.city.get("/department/").status_code == 200


def test_administrators_are_emailed_when_the_session_starts(
    admin, in_support, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = in_support()
    emails = [message for message in mail.outbox if admin.email in message.to]
    assert len(emails) == 1
    body = emails[0].body
    assert REASON in body and session.vendor.email in body
    assert f"support session {session.session_id}" in body
    assert "The session ends at" in body
    assert "/department/support/" in body
    # Signing in again later starts nothing new.
    from tests.support.conftest import entry_path

    with django_capture_on_commit_callbacks(execute=True):
        session.city.get(entry_path(session.vendor, session.session_id))
    assert len([m for m in mail.outbox if admin.email in m.to]) == 1


def test_the_email_is_in_the_departments_language(
    make_staff, in_support, django_capture_on_commit_callbacks
):
    from tenants.models import Branding

    with schema_context("public"):
        Branding.objects.filter(department__schema_name="concord").update(languages=["es", "en"])
    admin = make_staff("concord", "administrator")
    with django_capture_on_commit_callbacks(execute=True):
        in_support()
    [email] = [message for message in mail.outbox if admin.email in message.to]
    assert "ha comenzado una sesión de soporte del proveedor" in email.subject
    assert "Motivo:" in email.body


def test_the_city_audit_trail_shows_the_start_and_the_end(in_support, admin):
    session = in_support()
    session.vendor.client.post(f"/console/support/{session.session_id}/end/")
    page = admin.client.get("/department/audit/").content.decode()
    assert "Vendor support session started" in page
    assert "Vendor support session ended" in page
    assert f"support session {session.session_id}" in page


def test_the_sweep_records_expired_sessions_once(in_support, time_machine):
    from django.core.management import call_command

    session = in_support()
    with schema_context("public"):
        expires_at = SupportSession.objects.get(pk=session.session_id).expires_at
    time_machine.move_to(expires_at)
    call_command("support_sweep")
    call_command("support_sweep")
    assert session.city.get("/department/").status_code == 403
    with schema_context("public"):
        assert SupportSession.objects.get(pk=session.session_id).ended_why == "expired"
        assert PlatformAuditEntry.objects.filter(action="support_end").count() == 1
    assert len(city_entries(action="support_end")) == 1


@pytest.mark.parametrize("path", ["/my/", "/accounts/password/set/", "/accounts/2fa/"])
def test_a_support_identity_reaches_the_console_only(in_support, path):
    response = in_support(write="on").city.get(path)
    assert response.status_code == 403
    assert "A support session reaches the department console only." in response.content.decode()
