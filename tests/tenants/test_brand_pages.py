"""Every page in the city's brand (issue 12): allauth's pages in the portal's layout with plain
headings, labels without colons and the main action as the primary button; branded 403 and 404
pages in the user's language with a way back (plain if the branded one fails); the city's logo
as its favicon; emails in a branded HTML layout with the plain text kept."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django_tenants.utils import schema_context, tenant_context

from tenants.models import Department

pytestmark = pytest.mark.django_db


def concord_name() -> str:
    return Department.objects.get(schema_name="concord").branding.display_name


def heading(page: str) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page, re.S)
    assert found, page
    return " ".join(found.group(1).split())


def assert_no_colon_labels(page: str) -> None:
    found = re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)
    labels = [" ".join(label.split()) for label in found]
    assert labels, page
    assert not [label for label in labels if label.endswith(":")], labels


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/accounts/login/", "Sign in"),
        ("/accounts/signup/", "Create an account"),
        ("/accounts/password/reset/", "Reset your password"),
        ("/accounts/password/reset/key/1-bad-key/", "This link no longer works"),
    ],
)
def test_the_entrance_pages_are_in_the_citys_layout_with_plain_headings(
    concord_client, path, expected
):
    response = concord_client.get(path, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert heading(page) == expected
    assert 'class="site-header"' in page
    assert concord_name() in page
    if "<label" in page:
        assert_no_colon_labels(page)
    # The form's action is the primary button.
    if "<form" in page and "key" not in path:
        assert re.search(r'<button class="button button--primary"[^>]*type="submit"', page), page


def test_the_entrance_pages_speak_spanish(concord_client):
    concord_client.cookies["django_language"] = "es"
    page = concord_client.get("/accounts/password/reset/").content.decode()
    assert '<html lang="es">' in page
    assert heading(page) == "Restablezca su contraseña"
    page = concord_client.get("/accounts/signup/").content.decode()
    assert heading(page) == "Crear una cuenta"
    assert_no_colon_labels(page)


def test_signed_in_account_pages_have_plain_headings(make_resident):
    resident = make_resident("concord")
    page = resident.client.get("/accounts/password/change/").content.decode()
    assert heading(page) == "Change your password"
    assert_no_colon_labels(page)
    page = resident.client.get("/accounts/email/").content.decode()
    assert heading(page) == "Email addresses"
    assert concord_name() in page


def test_an_invitee_sets_a_password_rather_than_changing_one(concord_client, make_staff):
    """The invitation is a password-reset link: its page says "Set your password"."""
    staff = make_staff("concord", "investigator", signed_in=False, mfa=False)
    concord_client.post("/accounts/password/reset/", {"email": staff.email})
    link = re.search(
        r"http://concord\.localhost(/accounts/password/reset/key/\S+)", mail.outbox[-1].body
    )
    assert link, mail.outbox[-1].body
    page = concord_client.get(link.group(1), follow=True).content.decode()
    assert heading(page) == "Set your password"
    assert_no_colon_labels(page)
    assert "Change Password" not in page


def test_the_second_factor_page_makes_the_security_key_the_primary_action(
    concord_client, make_staff
):
    from tests.conftest import STAFF_PASSWORD

    staff = make_staff("concord", "investigator", signed_in=False)
    response = concord_client.post(
        "/accounts/login/", {"login": staff.email, "password": STAFF_PASSWORD}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    page = concord_client.get("/accounts/2fa/authenticate/").content.decode()
    assert heading(page) == "Two-factor authentication"
    key = re.search(r'<button class="([^"]*)"[^>]*id="mfa_webauthn_authenticate"', page)
    cancel = re.search(r'<button class="([^"]*)"[^>]*form="logout-from-stage"', page)
    assert key and cancel, page
    assert key.group(1) == "button button--primary"
    assert cancel.group(1) == "button button--secondary"


def recovery_codes_page(client, user_email: str, password: str, schema: str) -> str:
    """The recovery codes page, after confirming the password (allauth asks again)."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from django.contrib.auth import get_user_model

    with schema_context(schema):
        RecoveryCodes.activate(get_user_model().objects.get(email=user_email))
    response = client.get("/accounts/2fa/recovery-codes/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/reauthenticate/")
    reauthenticate = client.get(response["Location"]).content.decode()
    assert_no_colon_labels(reauthenticate)
    client.post(response["Location"], {"password": password})
    response = client.get("/accounts/2fa/recovery-codes/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_recovery_codes_page_leads_staff_on_to_the_console(make_staff):
    from tests.conftest import STAFF_PASSWORD

    staff = make_staff("concord", "investigator")
    page = recovery_codes_page(staff.client, staff.email, STAFF_PASSWORD, "concord")
    assert heading(page) == "Recovery codes"
    # The staff console's layout, not the residents'.
    assert '<body class="console">' in page
    assert re.search(
        r'id="recovery-codes-next">\s*<a class="button button--primary" href="/department/"', page
    )


def test_the_recovery_codes_page_leads_residents_on_to_their_cameras(make_resident):
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth import get_user_model

    from tests.conftest import TOTP_SECRET

    resident = make_resident("concord")
    with schema_context("concord"):
        TOTP.activate(get_user_model().objects.get(email=resident.email), TOTP_SECRET)
    resident.client.cookies["django_language"] = "es"
    page = recovery_codes_page(resident.client, resident.email, resident.password, "concord")
    assert heading(page) == "Códigos de recuperación"
    assert 'href="/my/">Continuar a Mis cámaras</a>' in page
    assert '<body class="console">' not in page
    assert 'class="site-header"' in page


def test_a_missing_page_is_the_citys_404_with_a_way_back(concord_client):
    response = concord_client.get("/no-such-page/", HTTP_REFERER="http://concord.localhost/my/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="canvass-error"' in page
    assert 'class="site-header"' in page
    assert concord_name() in page
    assert heading(page) == "Page not found"
    assert 'href="/my/">Go back</a>' in page
    assert 'href="/">Home page</a>' in page


def test_the_404_page_speaks_spanish_and_ignores_a_foreign_referer(concord_client):
    concord_client.cookies["django_language"] = "es"
    response = concord_client.get("/no-such-page/", HTTP_REFERER="https://evil.example/x")
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="es">' in page
    assert heading(page) == "Página no encontrada"
    assert "evil.example" not in page


def test_a_forbidden_page_is_the_citys_403(make_resident):
    resident = make_resident("concord")
    response = resident.client.get("/department/")
    assert response.status_code == 403
    page = response.content.decode()
    assert 'id="canvass-error"' in page
    assert concord_name() in page
    assert heading(page) == "Not allowed"


def test_the_platforms_404_is_in_the_public_sites_layout(platform_client):
    response = platform_client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="canvass-error"' in page
    assert 'class="site-bar"' in page
    assert heading(page) == "Page not found"


def test_the_error_page_is_plain_rather_than_blank_when_the_layout_fails(concord_client):
    concord_client.cookies["django_language"] = "es"
    with mock.patch("canvass.error_pages.render", side_effect=RuntimeError("layout broke")):
        response = concord_client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert heading(page) == "Página no encontrada"
    assert 'href="/"' in page


def test_the_citys_logo_is_its_favicon(concord_client):
    department = Department.objects.get(schema_name="concord")
    department.branding.logo = ""
    department.branding.save(update_fields=["logo"])
    page = concord_client.get("/").content.decode()
    assert re.search(r'<link rel="icon" href="/static/portal/favicon[^"]*"', page), page
    department.branding.logo.save("concord.png", ContentFile(b"\x89PNG\r\n\x1a\n"), save=True)
    page = concord_client.get("/").content.decode()
    assert f'<link rel="icon" href="{department.branding.logo.url}">' in page


def test_emails_have_a_branded_html_layout_and_keep_the_plain_text():
    from portal.registry.emails import email_message

    department = Department.objects.get(schema_name="concord")
    with tenant_context(department):
        message = email_message(
            template="registry/email/verification_notice",
            to="rosa@example.org",
            language="es",
            context={"verify_url": "http://concord.localhost/verify/abc/", "token": "abc"},
            department=department,
        )
    assert message.body  # the plain text is the body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert department.branding.display_name_in("es") in html  # the Spanish program name
    assert department.branding.primary_color in html
    assert '<html lang="es">' in html
    assert '<a href="http://concord.localhost/verify/abc/"' in html
    assert message.from_email.startswith(f'"{department.branding.display_name}"') or (
        department.branding.display_name in message.from_email
    )
