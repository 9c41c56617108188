"""Licenses in the consoles: vendor billing staff issue them (bad input: a clear error, 400) and
see each department's; a department's administrators see their own status and renewal date,
read-only, without payment details; other staff do not."""

from __future__ import annotations

from datetime import date

import pytest

from billing.licenses import license_issue
from billing.models import License
from tenants.models import Department

pytestmark = pytest.mark.django_db


def form(city: Department, **changes: str) -> dict[str, str]:
    return {
        "department": city.schema_name,
        "period_start": "2027-01-01",
        "amount": "128937.00",
        "currency": "usd",
        "po_number": "LR-PO-5521",
        "contract": "Sourcewell 010720",
    } | changes


@pytest.fixture
def littlerock() -> Department:
    return Department.objects.get(schema_name="littlerock")


def test_billing_staff_issue_a_license(catalog_vendor_client, fake_stripe, littlerock):
    response = catalog_vendor_client.post("/console/licenses/new/", form(littlerock))
    assert response.status_code == 302
    license_ = License.objects.get(department=littlerock)
    assert (license_.amount, license_.status, license_.po_number) == (
        12_893_700,
        License.Status.OPEN,
        "LR-PO-5521",
    )
    page = catalog_vendor_client.get("/console/licenses/").content.decode()
    assert "LR-PO-5521" in page and "Open" in page and "2028-01-01" in page


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"amount": "0"}, "between 0.50"),
        ({"amount": "lots"}, "Enter a number"),
        ({"currency": "eur"}, "US dollars"),
        ({"po_number": ""}, "This field is required"),
        ({"period_start": "2027-02-30"}, "Enter a valid date"),
        ({"department": "atlantis"}, "Select a valid choice"),
    ],
)
def test_bad_licenses_get_a_clear_error_and_400(
    catalog_vendor_client, fake_stripe, littlerock, changes, error
):
    response = catalog_vendor_client.post("/console/licenses/new/", form(littlerock, **changes))
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not License.objects.exists()
    assert fake_stripe.requests == []


def test_without_stripe_keys_the_form_says_so(catalog_vendor_client, littlerock):
    response = catalog_vendor_client.post("/console/licenses/new/", form(littlerock))
    assert response.status_code == 400
    assert "Payments are not configured on this installation" in response.content.decode()
    assert not License.objects.exists()


def test_a_stripe_timeout_is_explained(catalog_vendor_client, fake_stripe, littlerock):
    fake_stripe.fail_next("timeout")
    response = catalog_vendor_client.post("/console/licenses/new/", form(littlerock))
    assert response.status_code == 400
    assert "No license was recorded" in response.content.decode()
    assert not License.objects.exists()


def test_administrators_see_their_license_without_payment_details(
    fake_stripe, littlerock, make_staff
):
    license_ = license_issue(
        actor_email="vendor@canvass.example.org",
        department=littlerock,
        period_start=date(2027, 1, 1),
        amount=12_893_700,
        currency="usd",
        po_number="LR-PO-5521",
        contract="",
    )
    license_issue(
        actor_email="vendor@canvass.example.org",
        department=Department.objects.get(schema_name="carrollton"),
        period_start=date(2027, 1, 1),
        amount=100_000,
        currency="usd",
        po_number="CARR-ONLY",
        contract="",
    )
    admin = make_staff("littlerock", "administrator")
    page = admin.client.get("/department/license/").content.decode()
    assert "LR-PO-5521" in page and "Open" in page
    assert "CARR-ONLY" not in page
    assert license_.hosted_invoice_url not in page
    assert "invoice.stripe.com" not in page
    investigator = make_staff("littlerock", "investigator")
    assert investigator.client.get("/department/license/").status_code == 403


def test_spanish_administrators_read_it_in_spanish(fake_stripe, littlerock, make_staff):
    admin = make_staff("littlerock", "administrator")
    admin.client.cookies["django_language"] = "es"
    page = admin.client.get("/department/license/").content.decode()
    assert "Licencia de la plataforma" in page
