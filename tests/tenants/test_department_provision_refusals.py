"""Bad provisioning input is refused with a specific message, and nothing is created."""

from __future__ import annotations

import io
import os

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_exists
from PIL import Image

from tenants import services
from tenants.models import Department, Domain
from tests.tenants.springfield import SPRINGFIELD

pytestmark = pytest.mark.django_db


def image_file(*, size: tuple[int, int] = (64, 64), image_format: str = "PNG", name="logo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", size, "#336699").save(buffer, format=image_format)
    return ContentFile(buffer.getvalue(), name=name)


def schemas() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace")
        return {row[0] for row in cursor.fetchall()}


def refused(**overrides) -> dict[str, list[str]]:
    before = (Department.objects.count(), Domain.objects.count(), schemas())
    with pytest.raises(ValidationError) as caught:
        services.department_provision(**(SPRINGFIELD | overrides))
    assert (Department.objects.count(), Domain.objects.count(), schemas()) == before
    return caught.value.message_dict


@pytest.mark.parametrize(
    "subdomain",
    ["spring.field", "spring_field", "-spring", "spring-", "1spring", "a" * 31, "spr ing", ""],
)
def test_a_malformed_subdomain_is_refused(subdomain):
    errors = refused(subdomain=subdomain)
    assert "lowercase letters, digits and hyphens" in errors["subdomain"][0]


def test_a_subdomain_is_taken_in_lower_case():
    result = services.department_provision(**(SPRINGFIELD | {"subdomain": " Springfield "}))
    assert result.domain.domain == "springfield.localhost"


@pytest.mark.parametrize("subdomain", ["www", "admin", "public", "pg-catalog"])
def test_a_reserved_subdomain_is_refused(subdomain):
    assert "is reserved" in refused(subdomain=subdomain)["subdomain"][0]


def test_the_template_schema_cannot_be_claimed():
    assert "is reserved" in refused(subdomain="department-template")["subdomain"][0]


def test_a_taken_subdomain_is_refused():
    errors = refused(subdomain="concord", name="Concord Sheriff")
    assert errors["subdomain"] == ["The subdomain “concord” is taken by Concord Police Department."]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field cannot be blank."),
        ("   ", "This field cannot be blank."),
        ("X", "Ensure this value has at least 2 characters (it has 1)."),
        ("P" * 101, "Ensure this value has at most 100 characters (it has 101)."),
    ],
)
def test_a_bad_department_name_is_refused(name, message):
    assert refused(name=name)["name"] == [message]


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#ggg000", "123456", "#fff"])
def test_an_invalid_colour_is_refused(colour):
    errors = refused(primary_color=colour)
    assert "six hex digits" in errors["primary_color"][0]


def test_an_invalid_accent_colour_is_refused_under_its_own_name():
    assert "accent_color" in refused(accent_color="blue")


def test_an_oversized_logo_is_refused(settings):
    settings.LOGO_MAX_BYTES = 1024
    noisy = Image.frombytes("L", (256, 256), os.urandom(256 * 256))
    buffer = io.BytesIO()
    noisy.save(buffer, format="PNG")
    errors = refused(logo=ContentFile(buffer.getvalue(), name="big.png"))
    assert errors["logo"][0].startswith("The logo is ")
    assert "the limit is 1.0\xa0KB" in errors["logo"][0]


def test_a_logo_with_too_many_pixels_is_refused():
    errors = refused(logo=image_file(size=(4000, 100)))
    assert errors["logo"] == ["The logo is 4000 by 100 pixels; at most 2048 on each side."]


def test_a_logo_that_is_not_an_image_is_refused():
    errors = refused(logo=ContentFile(b"<svg onload=alert(1)>", name="logo.png"))
    assert errors["logo"] == ["The logo must be a PNG, JPEG or WebP image; this file is not one."]


def test_a_logo_in_another_image_format_is_refused():
    errors = refused(logo=image_file(image_format="GIF", name="logo.gif"))
    assert errors["logo"] == ["The logo must be a PNG, JPEG or WebP image, not GIF."]


def test_a_good_logo_is_accepted():
    result = services.department_provision(**SPRINGFIELD, logo=image_file())
    assert result.department.branding.logo.name.startswith("logos/springfield")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("state", "Illinois", "Use the two-letter state code, e.g. NC."),
        ("time_zone", "Mars/Olympus", "is not a time zone"),
        ("center_latitude", 123.0, "less than or equal to 90"),
        ("service_radius_m", 10, "greater than or equal to 500"),
        ("administrator_email", "not-an-email", "Enter a valid email address"),
        ("administrator_password", "123", "This password is too short"),
        ("languages", [], "Choose at least one language."),
        ("languages", ["en", "fr"], "Value 'fr' is not a valid choice."),
        ("display_name", "", "This field cannot be blank."),
    ],
)
def test_each_other_field_is_checked(field, value, expected):
    errors = refused(**{field: value})
    assert any(expected in message for message in errors[field]), errors


def test_all_errors_are_reported_at_once():
    errors = refused(name="", primary_color="red", administrator_email="nope")
    assert {"name", "primary_color", "administrator_email"} <= errors.keys()


def test_a_failure_half_way_leaves_no_schema_row_or_domain(monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("mail server down")

    monkeypatch.setattr(services, "staff_account_ensure", explode)
    before = (Department.objects.count(), Domain.objects.count())
    with pytest.raises(RuntimeError):
        services.department_provision(**SPRINGFIELD)
    assert (Department.objects.count(), Domain.objects.count()) == before
    assert not schema_exists("springfield")


COMMAND_OPTIONS = [
    "--name=Springfield Police Department",
    "--city=Springfield",
    "--state=IL",
    "--display-name=Springfield Camera Registry",
    "--center=39.78,-89.65",
    "--admin-email=chief@springfield.example.org",
]


def test_the_command_reports_refusals_and_creates_nothing():
    with pytest.raises(CommandError) as caught:
        call_command("provision_department", "Bad_Name", *COMMAND_OPTIONS)
    assert "Nothing was created." in str(caught.value)
    assert "subdomain:" in str(caught.value)
    assert not Department.objects.filter(city="Springfield").exists()


def test_the_command_creates_a_department_and_invites_its_administrator(
    capsys, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("provision_department", "springfield", *COMMAND_OPTIONS)
    output = capsys.readouterr().out
    assert "Created Springfield Police Department at springfield.localhost" in output
    assert "Invited the administrator chief@springfield.example.org" in output
    assert [message.to for message in mail.outbox] == [["chief@springfield.example.org"]]


@pytest.mark.parametrize(
    "answered_by",
    ["django-tenants' check", "PostgreSQL's unique index"],
)
def test_a_subdomain_taken_by_a_concurrent_provisioning_is_refused_cleanly(
    monkeypatch, answered_by
):
    checked = services.template_schema_is_current

    def another_vendor_is_faster() -> bool:
        # Between this call's checks and its writes, another provisioning commits the name.
        Department.objects.create(
            schema_name="springfield", name="Other", city="X", state="IL", time_zone="UTC"
        )
        if answered_by == "PostgreSQL's unique index":
            # ...after django-tenants' own check too, while this insert waited for its lock.
            monkeypatch.setattr(Department, "_check_schema_name_is_unique", lambda self: None)
        return checked()

    monkeypatch.setattr(services, "template_schema_is_current", another_vendor_is_faster)
    monkeypatch.setattr(Department, "auto_create_schema", False)
    with pytest.raises(ValidationError) as refused:
        services.department_provision(**SPRINGFIELD)
    assert refused.value.message_dict["subdomain"] == [
        "The subdomain “springfield” was taken a moment ago; choose another."
    ]
    assert Department.objects.get(schema_name="springfield").name == "Other"
    assert not Domain.objects.filter(domain="springfield.localhost").exists()
