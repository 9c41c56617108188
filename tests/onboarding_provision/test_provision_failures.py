"""Nothing half-provisioned: a subdomain taken meanwhile, Stripe failing during the draft or a
later step failing leave no department, schema, domain, license, Stripe draft or email, and the
request approved with a line saying why; without Stripe at all the department goes live without
a license, and says so."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_exists
from onboarding import provisioning
from onboarding.models import ProgramRequest, ProgramRequestEvent

from billing.models import Customer, License
from console.models import PlatformAuditEntry
from tenants.models import Department, Domain
from tenants.services import department_provision
from tests.onboarding_provision.conftest import form_data, provision_path
from tests.tenants.springfield import SPRINGFIELD

pytestmark = pytest.mark.django_db


def assert_nothing_provisioned(
    program_request: ProgramRequest, schema: str = "springfield"
) -> None:
    assert not Department.objects.filter(schema_name=schema).exists()
    assert not schema_exists(schema)
    assert not Domain.objects.filter(domain=f"{schema.replace('_', '-')}.localhost").exists()
    assert not License.objects.filter(department__schema_name=schema).exists()
    assert not PlatformAuditEntry.objects.filter(department_schema=schema).exists()
    assert mail.outbox == []
    program_request.refresh_from_db()
    assert program_request.status == ProgramRequest.Status.APPROVED
    assert program_request.department is None
    assert not program_request.events.filter(kind=ProgramRequestEvent.Kind.EMAILED).exists()


def test_a_subdomain_taken_after_approval_is_asked_for_again(
    console, approved, fake_stripe, django_capture_on_commit_callbacks
):
    page = console.get(provision_path(approved))  # the form was opened...
    assert page.status_code == 200
    # ...and meanwhile another department took the subdomain.
    other = department_provision(
        **(SPRINGFIELD | {"name": "Springfield Sheriff's Office"})
    ).department
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(provision_path(approved), form_data(approved))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was provisioned." in body
    assert 'href="#id_subdomain">Subdomain</a>: The subdomain “springfield” is taken by' in body
    assert Department.objects.filter(schema_name="springfield").get() == other
    assert not License.objects.filter(department=other).exists()
    approved.refresh_from_db()
    assert approved.status == ProgramRequest.Status.APPROVED
    assert approved.department is None


def test_a_subdomain_taken_between_the_form_and_the_service_is_a_field_error(
    console, approved, fake_stripe, monkeypatch, django_capture_on_commit_callbacks
):
    """The race past the form's own check: the service refuses and nothing is written (not
    even a line of history: a refused form changes no row)."""
    original = provisioning.department_provision

    def taken_first(**fields):
        department_provision(**(SPRINGFIELD | {"name": "Springfield Sheriff's Office"}))
        return original(**fields)

    monkeypatch.setattr(provisioning, "department_provision", taken_first)
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(provision_path(approved), form_data(approved))
    assert response.status_code == 400
    assert "is taken by Springfield Sheriff" in response.content.decode()
    # The other department rolled back with the attempt (it was made inside it here).
    assert_nothing_provisioned(approved)
    assert not approved.events.exists()


def test_stripe_failing_during_the_draft_leaves_nothing(
    console, approved, fake_stripe, django_capture_on_commit_callbacks
):
    fake_stripe.fail_next("timeout", on="/v1/invoiceitems")
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(provision_path(approved), form_data(approved))
    assert response.status_code == 400
    body = response.content.decode()
    assert "The payment service did not answer." in body
    assert "Nothing was created; the request is still approved." in body
    assert_nothing_provisioned(approved)
    assert not Customer.objects.filter(department__schema_name="springfield").exists()
    # The draft made before the line failed was deleted at Stripe.
    assert len(fake_stripe.calls("post", "/v1/invoices")) == 1
    assert not [obj for obj in fake_stripe.objects.values() if obj["object"] == "invoice"]
    (failed,) = approved.events.filter(kind=ProgramRequestEvent.Kind.FAILED)
    assert "The payment service did not answer." in failed.text
    assert failed.actor is not None


def test_a_failure_after_the_draft_deletes_the_draft_and_everything_else(
    approved, fake_stripe, monkeypatch, vendor_user, django_capture_on_commit_callbacks
):
    def audit_fails(**_kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(provisioning, "platform_audit_record", audit_fails)
    initial = form_data(approved)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        provision(approved, vendor_user, initial)
    assert_nothing_provisioned(approved)
    (deleted,) = [request for request in fake_stripe.requests if request[0] == "delete"]
    assert deleted[1].startswith("/v1/invoices/in_")
    assert not [obj for obj in fake_stripe.objects.values() if obj["object"] == "invoice"]
    (failed,) = approved.events.filter(kind=ProgramRequestEvent.Kind.FAILED)
    assert "the audit log is unavailable" in failed.text


def test_without_payments_configured_it_goes_live_without_a_license_and_says_so(
    console, approved, settings, django_capture_on_commit_callbacks
):
    settings.STRIPE_SECRET_KEY = ""
    form = console.get(provision_path(approved))
    assert "No license invoice: payments are not configured" in form.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = console.post(provision_path(approved), form_data(approved), follow=True)
    page = response.content.decode()
    assert "Springfield Police Department is live at springfield.localhost." in page
    assert "No license invoice: payments are not configured on this installation." in page
    department = Department.objects.get(schema_name="springfield")
    assert not License.objects.filter(department=department).exists()
    approved.refresh_from_db()
    assert approved.status == ProgramRequest.Status.PROVISIONED
    event = approved.events.get(kind=ProgramRequestEvent.Kind.PROVISIONED)
    assert "No license invoice: payments are not configured" in event.text
    assert len(mail.outbox) == 2  # the invitation and the welcome


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"amount": "0.10"}, "License amount (yearly, dollars)", "between 0.50 and 999,999.99"),
        ({"po_number": "P" * 61}, "Purchase-order number", "at most 60 characters"),
        ({"subdomain": "concord"}, "Subdomain", "is taken by Concord Police Department"),
        ({"subdomain": "www"}, "Subdomain", "is reserved"),
        ({"center_latitude": ""}, "Center latitude", "This field is required."),
        ({"period_start": "2027-02-30"}, "License period starts", "Enter a valid date."),
    ],
)
def test_bad_input_is_refused_field_by_field_with_nothing_written(
    console, approved, fake_stripe, changes, field, message
):
    response = console.post(provision_path(approved), form_data(approved, **changes))
    assert response.status_code == 400
    body = response.content.decode()
    assert f">{field}</a>: " in body and message in body
    assert_nothing_provisioned(approved)
    assert not approved.events.exists()
    assert fake_stripe.requests == []
    assert Department.objects.get(schema_name="concord").name == "Concord Police Department"


def provision(program_request, actor, data):
    """The service called as the view calls it, with the form's cleaned values."""
    from console.provision_forms import ProvisionForm

    form = ProvisionForm(data)
    assert form.is_valid(), form.errors
    return provisioning.program_request_provision(
        program_request=program_request,
        actor=actor,
        department_fields=form.department_fields(),
        **form.license_fields(),
    )


@pytest.fixture
def vendor_user(db):
    from django.contrib.auth import get_user_model

    from tenants.demo import VENDOR_EMAIL

    return get_user_model().objects.get(email=VENDOR_EMAIL)


def test_the_period_defaults_to_today_in_the_citys_zone(approved, time_machine):
    # 03:00 UTC on 1 January is still 31 December in Chicago.
    time_machine.move_to("2027-01-01T03:00:00Z")
    assert provisioning.provision_initial(approved)["period_start"] == date(2026, 12, 31)


def test_a_department_of_the_same_name_and_subdomain_is_never_taken_over(
    approved, fake_stripe, vendor_user, django_capture_on_commit_callbacks
):
    """department_provision would bring such a department up to date: a request refuses."""
    existing = department_provision(**SPRINGFIELD).department
    data = form_data(approved, primary_color="#000000")
    with pytest.raises(ValidationError) as refused:
        provisioning.program_request_provision(
            program_request=approved,
            actor=vendor_user,
            department_fields={
                **SPRINGFIELD,
                "administrator_password": None,
                "primary_color": data["primary_color"],
            },
            license_amount=4_800_00,
            license_period_start=date(2027, 1, 1),
        )
    assert "was taken a moment ago" in refused.value.message_dict["subdomain"][0]
    existing = Department.objects.select_related("branding").get(pk=existing.pk)
    assert existing.branding.primary_color == "#1d4ed8"
    assert not License.objects.filter(department=existing).exists()
    approved.refresh_from_db()
    assert (approved.status, approved.department) == (ProgramRequest.Status.APPROVED, None)
