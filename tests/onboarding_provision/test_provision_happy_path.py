"""Vendor staff provision an approved request in one click: a live portal on a cloned schema, the
first administrator invited, the license a draft invoice, the request live with its history and
audit, and the requester's welcome email in their language."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django_tenants.utils import schema_context, schema_exists
from onboarding.models import ProgramRequest, ProgramRequestEvent

from billing.models import License
from console.models import PlatformAuditEntry
from tenants.models import Department, Domain
from tests.onboarding_provision.conftest import form_data, provision_path

pytestmark = pytest.mark.django_db


def test_an_approved_request_becomes_a_live_department(
    console, approved, fake_stripe, host_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(provision_path(approved), form_data(approved), follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Springfield Police Department is live at springfield.localhost." in page
    assert "Draft license invoice of $4,800.00" in page

    department = Department.objects.select_related("branding", "program").get(
        schema_name="springfield"
    )
    assert schema_exists("springfield")
    assert Domain.objects.get(tenant=department).domain == "springfield.localhost"
    assert department.branding.display_name == "Springfield Community Camera Registry"
    assert department.branding.languages == ["en", "es"]
    assert department.program.goal_camera_count == 3_000
    assert department.program.service_radius_m == 8_000
    # Springfield, IL's ZIP codes average near the city's centre.
    assert abs(department.program.center_latitude - 39.78) < 0.1
    assert abs(department.program.center_longitude - (-89.65)) < 0.1
    assert host_client("springfield.localhost").get("/").status_code == 200

    with schema_context("springfield"):
        administrator = get_user_model().objects.get()
        assert administrator.email == "chief@springfield.example.org"
        assert not administrator.has_usable_password()

    license_ = License.objects.get(department=department)
    assert (license_.status, license_.amount, license_.po_number) == ("draft", 4_800_00, "")
    invoice = fake_stripe.objects[license_.stripe_invoice_id]
    assert invoice["status"] == "draft"
    assert invoice["amount_due"] == 4_800_00
    assert invoice["metadata"]["department"] == "springfield"
    assert not fake_stripe.calls("post", f"/v1/invoices/{invoice['id']}/finalize")
    assert not fake_stripe.calls("post", f"/v1/invoices/{invoice['id']}/send")

    approved.refresh_from_db()
    assert approved.status == ProgramRequest.Status.PROVISIONED
    assert approved.department == department
    provisioned = approved.events.get(kind=ProgramRequestEvent.Kind.PROVISIONED)
    assert (provisioned.from_status, provisioned.to_status) == ("approved", "provisioned")
    assert "springfield.localhost" in provisioned.text
    assert approved.events.filter(kind=ProgramRequestEvent.Kind.EMAILED, text="welcome").exists()
    assert not approved.events.filter(kind=ProgramRequestEvent.Kind.FAILED).exists()

    entries = PlatformAuditEntry.objects.filter(department=department)
    create = entries.get(action=PlatformAuditEntry.Action.DEPARTMENT_CREATE)
    assert create.detail["domain"] == "springfield.localhost"
    assert create.actor_email == "vendor@canvass.example.org" or create.actor is not None
    request_entry = entries.get(action=PlatformAuditEntry.Action.PROGRAM_REQUEST)
    assert request_entry.detail["what"] == "provisioned"
    assert request_entry.detail["license"] == license_.pk

    invitation, welcome = sorted(mail.outbox, key=lambda message: "invited" not in message.subject)
    assert invitation.to == ["chief@springfield.example.org"]
    assert re.search(
        r"http://springfield\.localhost:8000/accounts/password/reset/key/\S+", invitation.body
    )
    assert welcome.to == ["chief@springfield.example.org"]
    assert "Springfield Police Department's community camera registry is live" in welcome.subject
    for path in ("/", "/department/settings/portal/", "/department/staff/", "/department/import/"):
        assert f"http://springfield.localhost:8000{path}\n" in welcome.body
    assert "invitation to choose your password comes in a separate email" in welcome.body


def test_the_welcome_email_is_in_the_requests_language(
    console, make_request, fake_stripe, django_capture_on_commit_callbacks
):
    request = make_request(language="es")
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(provision_path(request), form_data(request))
    assert response.status_code == 302
    (welcome,) = [message for message in mail.outbox if "registro comunitario" in message.subject]
    assert "El registro comunitario de cámaras de Springfield Police Department" in welcome.subject
    assert "Una invitación para elegir su contraseña llega en otro correo" in welcome.body
    assert "Personal: invite a sus investigadores" in welcome.body
    assert "Importación: cargue una hoja de cálculo" in welcome.body


def test_values_edited_on_the_form_are_the_ones_provisioned(
    console, approved, fake_stripe, django_capture_on_commit_callbacks
):
    edited = form_data(
        approved,
        subdomain="springfield-il",
        display_name="Eyes on Springfield",
        center_latitude="39.8",
        center_longitude="-89.6",
        service_radius_m="12000 m",
        goal_camera_count="5000",
        primary_color="#0f766e",
        languages=["en"],
        administrator_email="it@springfield.example.org",
        amount="3500.50",
        po_number="PO-2027-17",
        contract="NASPO 123",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(provision_path(approved), edited)
    assert response.status_code == 302
    department = Department.objects.get(schema_name="springfield_il")
    assert department.primary_domain == "springfield-il.localhost"
    assert department.branding.display_name == "Eyes on Springfield"
    assert department.branding.primary_color == "#0f766e"
    assert department.branding.languages == ["en"]
    assert (department.program.center_latitude, department.program.center_longitude) == (
        39.8,
        -89.6,
    )
    assert department.program.service_radius_m == 12_000
    assert department.program.goal_camera_count == 5_000
    license_ = License.objects.get(department=department)
    assert (license_.amount, license_.po_number, license_.contract) == (
        3_500_50,
        "PO-2027-17",
        "NASPO 123",
    )
    assert fake_stripe.objects[license_.stripe_invoice_id]["custom_fields"] == [
        {"name": "PO number", "value": "PO-2027-17"}
    ]
    with schema_context("springfield_il"):
        assert get_user_model().objects.get().email == "it@springfield.example.org"
    assert {message.to[0] for message in mail.outbox} == {
        "it@springfield.example.org",  # the invitation
        "chief@springfield.example.org",  # the welcome, to the requester
    }
