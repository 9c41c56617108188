"""A department's yearly license, invoiced the way cities buy: a Stripe invoice sent for payment
by bank transfer, net 30, the purchase-order number on it; its status comes back through the
invoice webhooks' service (invoice_record)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from billing.gateway import PaymentsNotConfigured, StripeUnavailable
from billing.licenses import license_issue
from billing.models import Customer, Invoice, License
from billing.services import invoice_record
from tenants.models import Department

pytestmark = pytest.mark.django_db


def issue(department: Department, **changes: object) -> License:
    fields = {
        "actor_email": "vendor@canvass.example.org",
        "department": department,
        "period_start": date(2027, 1, 1),
        "amount": 12_500_000,
        "currency": "usd",
        "po_number": "PO-2027-0042",
        "contract": "Sourcewell 010720",
    }
    return license_issue(**(fields | changes))


@pytest.fixture
def milwaukee_like() -> Department:
    return Department.objects.get(schema_name="littlerock")


def test_a_license_is_invoiced_for_bank_transfer_net_30_with_the_po_number(
    fake_stripe, milwaukee_like
):
    license_ = issue(milwaukee_like)
    invoice = fake_stripe.objects[license_.stripe_invoice_id]
    assert invoice["collection_method"] == "send_invoice"
    assert invoice["custom_fields"] == [{"name": "PO number", "value": "PO-2027-0042"}]
    assert invoice["metadata"]["license"] == str(license_.pk)
    assert invoice["metadata"]["department"] == "littlerock"
    assert invoice["amount_due"] == 12_500_000
    assert invoice["payment_settings"]["payment_method_types"] == [
        "customer_balance",
        "us_bank_account",
    ]
    (draft,) = fake_stripe.calls("post", "/v1/invoices")[:1]
    assert draft["days_until_due"] == "30"
    assert fake_stripe.calls("post", f"/v1/invoices/{invoice['id']}/finalize")
    assert fake_stripe.calls("post", f"/v1/invoices/{invoice['id']}/send")
    assert license_.status == License.Status.OPEN
    assert license_.period_end == date(2028, 1, 1)
    assert license_.due_date is not None
    assert license_.hosted_invoice_url.startswith("https://invoice.stripe.com/")
    customer = Customer.objects.get(department=milwaukee_like, participant_id__isnull=True)
    assert invoice["customer"] == customer.stripe_customer_id


def test_the_department_keeps_one_customer_across_licenses(fake_stripe, milwaukee_like):
    first = issue(milwaukee_like)
    second = issue(milwaukee_like, period_start=date(2028, 1, 1))
    assert (
        fake_stripe.objects[first.stripe_invoice_id]["customer"]
        == fake_stripe.objects[second.stripe_invoice_id]["customer"]
    )
    assert Customer.objects.filter(department=milwaukee_like).count() == 1
    assert len(fake_stripe.calls("post", "/v1/customers")) == 1


def test_the_paid_invoice_marks_the_license_paid(fake_stripe, milwaukee_like):
    license_ = issue(milwaukee_like)
    (paid,) = fake_stripe.invoice_pay(license_.stripe_invoice_id)
    invoice_record(stripe_invoice=paid["data"]["object"], department=milwaukee_like)
    license_.refresh_from_db()
    assert license_.status == License.Status.PAID
    assert license_.paid_at is not None
    row = Invoice.objects.get(stripe_invoice_id=license_.stripe_invoice_id)
    assert (row.license, row.status, row.amount_paid) == (license_, "paid", 12_500_000)


def test_a_paid_license_stays_paid_when_an_older_open_snapshot_arrives(fake_stripe, milwaukee_like):
    license_ = issue(milwaukee_like)
    open_snapshot = dict(fake_stripe.objects[license_.stripe_invoice_id])
    (paid,) = fake_stripe.invoice_pay(license_.stripe_invoice_id)
    invoice_record(stripe_invoice=paid["data"]["object"], department=milwaukee_like)
    invoice_record(stripe_invoice=open_snapshot | {"status": "open"}, department=milwaukee_like)
    license_.refresh_from_db()
    assert license_.status == License.Status.PAID


def test_a_stripe_timeout_leaves_no_license(fake_stripe, milwaukee_like):
    issue(milwaukee_like, period_start=date(2026, 1, 1))  # the customer exists
    requests = len(fake_stripe.requests)
    original = fake_stripe.request

    def finalize_times_out(method, url, headers, body):
        if url.endswith("/finalize"):
            fake_stripe.fail_next("timeout")
        return original(method, url, headers, body)

    fake_stripe.request = finalize_times_out
    with pytest.raises(StripeUnavailable):
        issue(milwaukee_like)
    assert len(fake_stripe.requests) > requests
    assert not License.objects.filter(
        department=milwaukee_like, period_start=date(2027, 1, 1)
    ).exists()
    assert not Invoice.objects.filter(license__period_start=date(2027, 1, 1)).exists()


def test_without_payments_configured_nothing_is_written(settings, milwaukee_like):
    settings.STRIPE_SECRET_KEY = ""
    with pytest.raises(PaymentsNotConfigured):
        issue(milwaukee_like)
    assert not License.objects.exists()
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": 100_000_000}, "amount"),
        ({"currency": "eur"}, "currency"),
        ({"po_number": "  "}, "po_number"),
        ({"po_number": "P" * 61}, "po_number"),
        ({"contract": "C" * 121}, "contract"),
    ],
)
def test_bad_input_is_refused_by_field_before_stripe_is_called(
    fake_stripe, milwaukee_like, changes, field
):
    with pytest.raises(ValidationError) as raised:
        issue(milwaukee_like, **changes)
    assert field in raised.value.message_dict
    assert fake_stripe.requests == []
    assert not License.objects.exists()


def test_one_license_per_department_and_period(fake_stripe, milwaukee_like):
    issue(milwaukee_like)
    with pytest.raises(ValidationError) as raised:
        issue(milwaukee_like, po_number="PO-other")
    assert "period_start" in raised.value.message_dict
    assert License.objects.filter(department=milwaukee_like).count() == 1


def test_two_cities_licenses_for_the_same_period_do_not_mix(fake_stripe):
    littlerock = Department.objects.get(schema_name="littlerock")
    carrollton = Department.objects.get(schema_name="carrollton")
    first, second = issue(littlerock), issue(carrollton, po_number="CARR-77")
    assert first.department != second.department
    (paid,) = fake_stripe.invoice_pay(second.stripe_invoice_id)
    invoice_record(stripe_invoice=paid["data"]["object"], department=carrollton)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (License.Status.OPEN, License.Status.PAID)
    # An invoice naming another city's license id does not touch it.
    foreign = paid["data"]["object"] | {"id": "in_foreign", "metadata": {"license": first.pk}}
    invoice_record(stripe_invoice=foreign, department=carrollton)
    first.refresh_from_db()
    assert first.status == License.Status.OPEN
