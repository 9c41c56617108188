"""Vendor staff onboard a department from the console: one form, the provisioning service
behind it, refusals field by field with nothing created."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context, schema_exists
from PIL import Image

from tenants.models import Department, Domain
from tests.tenants.springfield import SPRINGFIELD

pytestmark = pytest.mark.django_db

# The provisioning tests' Springfield, as a browser would post it.
FORM = {key: str(value) for key, value in SPRINGFIELD.items() if key != "administrator_password"}
FORM |= {
    # The console types distances in the department's units; a unit typed after the number wins.
    "service_radius_m": f"{SPRINGFIELD['service_radius_m']} m",
    "goal_camera_count": "1200",
    "primary_color": "#0f766e",
    "accent_color": "#b45309",
    "languages": ["en", "es"],
    "welcome_en": "Register your camera.",
    "welcome_es": "Registre su cámara.",
}


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "#0f766e").save(buffer, format="PNG")
    return SimpleUploadedFile("springfield.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def console(platform_client, vendor, sign_in):
    sign_in(platform_client, vendor)
    return platform_client


def test_vendor_staff_onboard_a_department(
    console, host_client, django_capture_on_commit_callbacks
):
    form = console.get("/console/departments/new/")
    assert form.status_code == 200
    assert 'name="administrator_email"' in form.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = console.post("/console/departments/new/", FORM | {"logo": png()}, follow=True)

    assert response.redirect_chain == [("/console/", 302)]
    page = response.content.decode()
    assert "Springfield Police Department is live at springfield.localhost." in page
    department = Department.objects.select_related("branding", "program").get(
        schema_name="springfield"
    )
    assert department.branding.primary_color == "#0f766e"
    assert department.branding.logo.name.startswith("logos/springfield")
    assert department.program.goal_camera_count == 1200
    with schema_context("springfield"):
        administrator = get_user_model().objects.get()
        assert administrator.email == "chief@springfield.example.org"
        assert not administrator.has_usable_password()
    (invitation,) = mail.outbox
    assert invitation.to == ["chief@springfield.example.org"]
    link = r"http://springfield\.localhost:8000/accounts/password/reset/key/\S+"
    assert re.search(link, invitation.body)
    portal = host_client("springfield.localhost").get("/").content.decode()
    assert "Springfield Camera Registry" in portal
    assert "Register your camera." in portal


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"subdomain": "concord"}, "Subdomain", "is taken by Concord Police Department"),
        ({"subdomain": "Bad_Name"}, "Subdomain", "is not one"),
        ({"subdomain": "www"}, "Subdomain", "is reserved"),
        ({"primary_color": "red"}, "Primary color", "six hex digits"),
        ({"state": "Illinois"}, "State", "at most 2 characters"),
        ({"center_latitude": "95"}, "Center latitude", "less than or equal to 90"),
        ({"administrator_email": "chief"}, "First administrator", "valid email address"),
        ({"name": ""}, "Department name", "This field is required."),
    ],
)
def test_bad_input_is_refused_field_by_field(console, changes, field, message):
    before = (Department.objects.count(), Domain.objects.count())
    response = console.post("/console/departments/new/", FORM | changes)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was created." in page
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S).group(0)
    assert field in summary
    assert message in summary
    assert (Department.objects.count(), Domain.objects.count()) == before
    assert not schema_exists("springfield")


def test_a_file_that_is_not_an_image_is_refused_as_a_logo(console):
    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    response = console.post("/console/departments/new/", FORM | {"logo": fake})
    assert response.status_code == 400
    assert "The logo must be a PNG, JPEG or WebP image" in response.content.decode()
    assert not Department.objects.filter(schema_name="springfield").exists()
    assert not schema_exists("springfield")


def test_only_vendor_staff_reach_the_form(platform_client):
    response = platform_client.get("/console/departments/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    response = platform_client.post("/console/departments/new/", FORM)
    assert response.status_code == 302
    assert not Department.objects.filter(schema_name="springfield").exists()


def test_a_city_host_does_not_serve_the_form(concord_client, concord_admin, sign_in):
    sign_in(concord_client, concord_admin)
    assert concord_client.get("/console/departments/new/").status_code == 404


def test_submitting_the_same_department_twice_does_not_change_the_first(console):
    console.post("/console/departments/new/", FORM)
    response = console.post("/console/departments/new/", FORM | {"primary_color": "#000000"})
    assert response.status_code == 400
    assert "is taken by Springfield Police Department" in response.content.decode()
    assert Department.objects.get(schema_name="springfield").branding.primary_color == "#0f766e"
