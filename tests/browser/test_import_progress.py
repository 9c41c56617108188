"""A registry import in a real browser: the page of an import being checked follows the job
with its script (no inline script, nothing the CSP blocks), reloads by itself when the check is
done, and the confirmed import is written by the second job.

It runs in Little Rock; the accounts it makes (staff and imported owners) are on the browser
domain and are removed afterwards, with the import jobs."""

from __future__ import annotations

import re

from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context

from portal.department.tasks import registry_import_check
from portal.registry.audit import Actor
from portal.registry.models import ImportJob, Site, StaffMember
from portal.registry.services import import_start
from tests.conftest import TOTP_SECRET, totp_now
from tests.registry.test_registry_io import ROW

PASSWORD = "an-administrators-passphrase"
EMAIL = "ada.admin@browser.example.org"


def csv_content() -> bytes:
    """Three owners' sites near Little Rock's centre, each owner on the browser domain."""
    lines = [",".join(ROW)]
    for n in range(3):
        row = ROW | {
            "site_ref": f"B{n}",
            "address": f"{n} Import Ct",
            "latitude": "34.7465",
            "longitude": f"-92.28{n}",
            "contact_email": f"owner{n}@browser.example.org",
        }
        lines.append(",".join(row.values()))
    return ("\n".join(lines) + "\n").encode()


def test_an_import_page_follows_its_jobs(page, live_url):
    littlerock = live_url.format(city="littlerock")
    with schema_context("littlerock"):
        user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
        staff = StaffMember.objects.create(user=user, role="administrator")
        TOTP.activate(user, TOTP_SECRET)
        job = import_start(
            actor=Actor.of_staff(staff, None), filename="browser.csv", content=csv_content()
        )
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        page.goto(littlerock + "/accounts/login/")
        page.fill("input[name=login]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
        page.fill("input[name=code]", totp_now())
        page.locator("main form button[type=submit]").click()
        page.wait_for_url(lambda url: "/accounts/" not in url)

        page.goto(f"{littlerock}/department/import/{job.pk}/")
        assert page.locator("progress").count() == 1
        with schema_context("littlerock"):
            registry_import_check(job.pk)  # the worker's turn
        # The page's script notices the end of the job and reloads the page.
        page.get_by_text("Ready to import: 3 sites").wait_for()
        assert page.get_by_text("0 Import Ct").is_visible()

        page.get_by_role("button", name="Import all of them").click()
        page.get_by_text("Imported: 3 sites (3 cameras).").wait_for()
        with schema_context("littlerock"):
            assert Site.objects.filter(address__endswith="Import Ct").count() == 3
        assert blocked == []
    finally:
        with schema_context("littlerock"):
            ImportJob.objects.filter(pk=job.pk).delete()
