"""An unpaid license past its due date becomes overdue: one alert, one email to each of the
vendor's billing staff and the department's administrators, and never a suspension."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from billing.licenses import license_issue, licenses_check
from billing.models import Alert, License
from tenants.models import Department

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_license(fake_stripe) -> License:
    return license_issue(
        actor_email="vendor@canvass.example.org",
        department=Department.objects.get(schema_name="carrollton"),
        period_start=date(2027, 1, 1),
        amount=4_800_000,
        currency="usd",
        po_number="CARR-2027-9",
        contract="",
    )


def later(days: int):
    return timezone.now() + timedelta(days=days)


def test_nothing_happens_before_the_due_date(open_license, billing_vendor_email):
    assert licenses_check(now=later(29)) == []
    open_license.refresh_from_db()
    assert open_license.status == License.Status.OPEN
    assert mail.outbox == []


def test_an_unpaid_license_past_due_is_overdue_and_warned_once(
    open_license, billing_vendor_email, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        warned = licenses_check(now=later(32))
    assert [license_.pk for license_ in warned] == [open_license.pk]
    open_license.refresh_from_db()
    assert open_license.status == License.Status.OVERDUE
    assert open_license.overdue_notified_at is not None
    recipients = sorted(message.to[0] for message in mail.outbox)
    assert recipients == ["admin@carrollton.example.org", billing_vendor_email]
    assert all("CARR-2027-9" in message.body for message in mail.outbox)
    alert = Alert.objects.get(kind=Alert.Kind.LICENSE_OVERDUE)
    assert alert.department == open_license.department
    with django_capture_on_commit_callbacks(execute=True):
        assert licenses_check(now=later(33)) == []
        call_command("billing_licenses_check")
    assert len(mail.outbox) == 2
    assert Alert.objects.filter(kind=Alert.Kind.LICENSE_OVERDUE).count() == 1


def test_an_overdue_license_never_suspends_the_department(
    open_license, make_staff, django_capture_on_commit_callbacks
):
    admin = make_staff("carrollton", "administrator")
    with django_capture_on_commit_callbacks(execute=True):
        licenses_check(now=later(40))
    department = Department.objects.get(schema_name="carrollton")
    assert department.status == Department.Status.ACTIVE
    assert "administrator@carrollton.example.org" in [message.to[0] for message in mail.outbox]
    assert admin.client.get("/department/").status_code == 200
    assert admin.client.get("/department/incidents/").status_code == 200
    page = admin.client.get("/department/license/")
    assert page.status_code == 200
    assert "Overdue" in page.content.decode()


def test_a_paid_license_is_never_overdue(open_license, fake_stripe):
    from billing.services import invoice_record

    (paid,) = fake_stripe.invoice_pay(open_license.stripe_invoice_id)
    invoice_record(stripe_invoice=paid["data"]["object"], department=open_license.department)
    assert licenses_check(now=later(60)) == []
    open_license.refresh_from_db()
    assert open_license.status == License.Status.PAID
    assert mail.outbox == []
