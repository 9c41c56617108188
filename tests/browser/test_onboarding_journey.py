"""A department onboards itself, in Chromium, end to end: it requests a program on the platform
site and confirms its email; vendor staff approve the request and provision the department in
one click; the invited administrator chooses a password, sets up a second factor and sees the
first-run checklist; the city appears in the platform's directory.

Everything it makes is committed (the live server is a thread over the session's database), so
the test deletes the department and the request at the end, whatever happened."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django_tenants.utils import get_public_schema_name, schema_context, schema_exists
from onboarding.models import ProgramRequest

from billing.fake_stripe import FakeStripe
from billing.gateway import transport_injected
from billing.models import License
from tenants.demo import VENDOR_EMAIL, VENDOR_PASSWORD
from tenants.models import Department
from tests.browser.conftest import JOURNEY_SIZES, assert_fits
from tests.conftest import TOTP_SECRET, totp_now

SUBDOMAIN = "riverton"
CONTACT = "chief.lane@riverton-wy.gov"
PASSWORD = "a-new-administrators-passphrase"


def on_live_server(link: str, live: str) -> str:
    """An emailed link (written for the demo's port) on the test's live server."""
    parts, server = urlsplit(link), urlsplit(live)
    return f"http://{parts.hostname}:{server.port}{parts.path}"


def emailed_link(to: str, pattern: str) -> str:
    for message in reversed(mail.outbox):
        if to in message.to and (found := re.search(pattern, message.body)):
            return found.group(0)
    raise AssertionError(f"no email to {to} with {pattern}: {[m.subject for m in mail.outbox]}")


@pytest.fixture
def cleanup() -> Iterator[None]:
    yield
    from django.contrib.auth import get_user_model

    from console.lifecycle import department_delete

    ProgramRequest.objects.filter(subdomain=SUBDOMAIN).delete()
    department = Department.objects.filter(schema_name=SUBDOMAIN).first()
    if department is not None:
        License.objects.filter(department=department).delete()
        with schema_context(get_public_schema_name()):
            vendor = get_user_model().objects.get(email=VENDOR_EMAIL)
        department_delete(actor=vendor, department=department, confirmation=SUBDOMAIN)
    assert not schema_exists(SUBDOMAIN)


def sign_in_with_code(page, email: str, password: str, secret: str = TOTP_SECRET) -> None:
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", totp_now(secret))
    page.locator("main form button[type=submit]").click()


@pytest.mark.parametrize("size", JOURNEY_SIZES)
def test_a_department_requests_a_program_and_goes_live(page, live_url, cleanup, size):
    page.set_viewport_size(JOURNEY_SIZES[size])
    platform = live_url.replace("{city}.", "")

    # 1. The department asks for a program on the platform site.
    page.goto(platform + "/")
    page.get_by_role("link", name=re.compile("Request a program")).first.click()
    page.wait_for_url(re.compile(r"/request/$"))
    assert_fits(page)
    page.fill("#id_agency_name", "Riverton Police Department")
    page.fill("#id_city", "Riverton")
    page.select_option("#id_state", "WY")
    page.select_option("#id_time_zone", "America/Denver")
    page.fill("#id_contact_name", "Dana Lane")
    page.fill("#id_contact_title", "Chief of Police")
    page.fill("#id_contact_email", CONTACT)
    page.fill("#id_contact_phone", "+1 307 555 0142")
    page.fill("#id_expected_cameras", "800")
    page.check("input[name=wants_devices][value=yes]")
    page.fill("#id_subdomain", SUBDOMAIN)
    page.check("input[name=purchasing][value=purchase_order]")
    page.locator(".request-form button[type=submit]").click()
    page.wait_for_url(re.compile(r"/request/sent/"))
    request = ProgramRequest.objects.get(subdomain=SUBDOMAIN)
    assert request.status == ProgramRequest.Status.UNCONFIRMED

    # 2. It confirms its email address from the emailed link.
    page.goto(on_live_server(emailed_link(CONTACT, r"http://\S+/request/confirm/\S+/"), live_url))
    page.locator("main form button[type=submit]").click()
    page.get_by_text(re.compile("confirmed", re.I)).first.wait_for()
    request.refresh_from_db()
    assert request.status == ProgramRequest.Status.NEW

    # 3. Vendor staff find it in the queue, approve it and provision the department.
    page.goto(platform + "/accounts/login/")
    sign_in_with_code(page, VENDOR_EMAIL, VENDOR_PASSWORD)
    page.goto(platform + "/console/requests/")
    page.get_by_role("link", name=re.compile("Riverton Police Department")).first.click()
    assert_fits(page)
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("link", name="Provision the department").click()
    page.wait_for_url(re.compile(rf"/console/requests/{request.pk}/provision/"))
    assert page.input_value("#id_subdomain") == SUBDOMAIN
    assert_fits(page)
    assert page.input_value("#id_administrator_email") == CONTACT
    with transport_injected(FakeStripe()):
        page.get_by_role("button", name="Provision the department").click()
        page.get_by_text(re.compile("is live")).first.wait_for()
    request.refresh_from_db()
    assert request.status == ProgramRequest.Status.PROVISIONED
    department = Department.objects.get(schema_name=SUBDOMAIN)
    assert department.is_serving
    assert License.objects.get(department=department).status == License.Status.DRAFT

    # 4. The invited administrator chooses a password, signs in, sets up a second factor...
    page.context.clear_cookies()
    invitation = emailed_link(
        CONTACT, r"http://riverton\.localhost\S+/accounts/password/reset/key/\S+"
    )
    page.goto(on_live_server(invitation, live_url))
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.locator("main form button[name=action][type=submit]").click()
    page.wait_for_url(re.compile(r"/accounts/password/reset/key/done/|/accounts/login/"))
    riverton = live_url.format(city=SUBDOMAIN)
    page.goto(riverton + "/accounts/login/")
    page.fill("input[name=login]", CONTACT)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(riverton + "/department/")
    # The console sends staff without a second factor to set one up; changing how one signs
    # in asks for the password again, however recent the sign-in.
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/accounts/2fa/totp/activate/"))
    secret = page.input_value("#authenticator_secret")
    page.fill("input[name=code]", totp_now(secret))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()

    # ... and sees the first-run checklist on the department's dashboard.
    page.goto(riverton + "/department/")
    checklist = page.locator("section.setup").first
    checklist.wait_for()
    assert_fits(page)
    text = checklist.inner_text()
    assert "0 of 4" in text
    for step in ("Brand your portal", "terms", "Invite your staff", "Import your existing list"):
        assert step in text, step
    # A step the department answers is ticked off.
    page.get_by_role("button", name="Not needed: we have no existing list").click()
    page.locator("#setup-progress").filter(has_text="1 of 4 done").wait_for()

    # 5. Residents find the city in the platform's directory.
    page.goto(platform + "/cities/?q=Riverton")
    link = page.get_by_role("link", name=re.compile("Riverton")).first
    assert urlsplit(link.get_attribute("href")).hostname == "riverton.localhost"
