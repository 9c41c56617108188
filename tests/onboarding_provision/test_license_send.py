"""A draft license (made when a department was provisioned from its request) is sent from the
console's licenses page: its PO number asked for when missing, finalized and sent at Stripe,
then open; audited as a billing action. Only drafts, only billing staff."""

from __future__ import annotations

from datetime import date

import pytest

from billing.licenses import license_draft, license_send
from billing.models import License
from console.models import PlatformAuditEntry
from tenants.models import Department
from tests.onboarding_provision.conftest import vendor_client

pytestmark = pytest.mark.django_db


def draft(schema_name: str, po_number: str = "") -> License:
    return license_draft(
        actor_email="vendor@canvass.example.org",
        department=Department.objects.get(schema_name=schema_name),
        period_start=date(2027, 1, 1),
        amount=4_800_00,
        po_number=po_number,
    )


def send_path(license_: License) -> str:
    return f"/console/licenses/{license_.pk}/send/"


def test_a_draft_license_is_sent_with_its_po_number(console, fake_stripe):
    license_ = draft("carrollton")
    other = draft("littlerock")  # another city's draft, left alone
    listing = console.get("/console/licenses/").content.decode()
    assert f'href="{send_path(license_)}">Send invoice</a>' in listing

    missing = console.post(send_path(license_), {"po_number": ""})
    assert missing.status_code == 400
    assert "Enter the city&#x27;s purchase-order number." in missing.content.decode()
    assert fake_stripe.objects[license_.stripe_invoice_id]["status"] == "draft"

    response = console.post(send_path(license_), {"po_number": "PO-77"})
    assert response.status_code == 302
    license_.refresh_from_db()
    assert license_.status == License.Status.OPEN
    assert license_.po_number == "PO-77"
    assert license_.due_date is not None
    invoice = fake_stripe.objects[license_.stripe_invoice_id]
    assert invoice["status"] == "open"
    assert invoice["custom_fields"] == [{"name": "PO number", "value": "PO-77"}]
    assert fake_stripe.calls("post", f"/v1/invoices/{invoice['id']}/finalize")
    assert fake_stripe.calls("post", f"/v1/invoices/{invoice['id']}/send")
    entry = PlatformAuditEntry.objects.get(
        action=PlatformAuditEntry.Action.BILLING_ACTION, detail__what="license_send"
    )
    assert entry.department.schema_name == "carrollton"
    assert entry.detail["license"] == license_.pk
    other.refresh_from_db()
    assert other.status == License.Status.DRAFT
    assert fake_stripe.objects[other.stripe_invoice_id]["status"] == "draft"


def test_a_po_number_given_at_draft_is_kept(fake_stripe):
    license_ = license_send(actor_email="v@example.org", license_=draft("concord", "PO-1"))
    assert (license_.status, license_.po_number) == (License.Status.OPEN, "PO-1")


def test_only_a_draft_is_sent(console, fake_stripe):
    license_ = license_send(actor_email="v@example.org", license_=draft("concord", "PO-1"))
    sends = len(fake_stripe.calls("post", f"/v1/invoices/{license_.stripe_invoice_id}/send"))
    response = console.post(send_path(license_), {"po_number": "PO-2"}, follow=True)
    assert "This license is open: nothing to send." in response.content.decode()
    assert (
        len(fake_stripe.calls("post", f"/v1/invoices/{license_.stripe_invoice_id}/send")) == sends
    )
    license_.refresh_from_db()
    assert license_.po_number == "PO-1"


def test_stripe_failing_leaves_the_license_a_draft(console, fake_stripe):
    license_ = draft("concord")
    fake_stripe.fail_next("timeout", on=f"/v1/invoices/{license_.stripe_invoice_id}/finalize")
    response = console.post(send_path(license_), {"po_number": "PO-3"})
    assert response.status_code == 400
    assert "The license is still a draft." in response.content.decode()
    license_.refresh_from_db()
    assert (license_.status, license_.po_number) == (License.Status.DRAFT, "")


def test_only_billing_staff_send(host_client, fake_stripe):
    license_ = draft("concord", "PO-1")
    support = vendor_client(host_client, "support")
    assert support.post(send_path(license_), {"po_number": "PO-1"}).status_code == 403
    license_.refresh_from_db()
    assert license_.status == License.Status.DRAFT
