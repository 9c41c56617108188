"""Addresses and edits from the vendor console: a custom domain that is taken, reserved, the
platform's or malformed is refused with the reason; a primary address cannot be removed; an
edit is checked whole before anything is written, a second submit records nothing, and a new
terms text is a new terms version."""

from __future__ import annotations

import re

import pytest

from console.models import PlatformAuditEntry
from tenants.models import Department, Domain
from tests.console.test_department_onboarding import png
from tests.lifecycle.conftest import department_id

pytestmark = pytest.mark.django_db
Action = PlatformAuditEntry.Action


def add(console, hostname, schema_name="concord", **extra):
    return console.post(
        f"/console/departments/{department_id(schema_name)}/domains/",
        {"hostname": hostname, **extra},
    )


def test_a_custom_domain_serves_the_portal_and_is_recorded(console, host_client, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "cameras.concordnc.gov"]
    response = add(console, "Cameras.ConcordNC.gov.")
    assert response.status_code == 302
    domain = Domain.objects.get(domain="cameras.concordnc.gov")
    assert domain.tenant.schema_name == "concord" and not domain.is_primary
    assert host_client("cameras.concordnc.gov").get("/").status_code == 200
    entry = PlatformAuditEntry.objects.filter(department_schema="concord").first()
    assert (entry.action, entry.detail) == (
        Action.DOMAIN_ADD,
        {"domain": "cameras.concordnc.gov", "primary": False},
    )


@pytest.mark.parametrize(
    ("hostname", "message"),
    [
        ("carrollton.localhost", "“carrollton.localhost” is already used by another department."),
        ("concord.localhost", "“concord.localhost” is already an address of this department."),
        ("www.localhost", "The subdomain “www” is reserved."),
        ("admin.localhost", "The subdomain “admin” is reserved."),
        ("api.localhost", "The subdomain “api” is reserved."),
        ("static.localhost", "The subdomain “static” is reserved."),
        ("media.localhost", "The subdomain “media” is reserved."),
        ("localhost", "is the platform"),
        ("bad_name.example.org", "is not a host name"),
        ("-cameras.example.org", "is not a host name"),
        ("cameras", "is not a host name"),
        ("cameras.example.123", "is not a host name"),
        ("a." * 130 + "org", "at most 253 characters"),
        ("x.y.localhost", "address has one label, such as concord.localhost"),
    ],
)
def test_bad_addresses_are_refused_with_the_reason(console, hostname, message):
    before = Domain.objects.count()
    response = add(console, hostname)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Domain.objects.count() == before
    assert not PlatformAuditEntry.objects.filter(action=Action.DOMAIN_ADD).exists()


def test_a_domain_another_department_added_is_refused(console):
    assert add(console, "cameras.example.org", schema_name="carrollton").status_code == 302
    response = add(console, "cameras.example.org")
    assert "“cameras.example.org” is already used by another department." in (
        response.content.decode()
    )
    assert Domain.objects.get(domain="cameras.example.org").tenant.schema_name == "carrollton"


def test_a_second_submit_of_the_same_address_is_refused(console):
    assert add(console, "cameras.concordnc.gov").status_code == 302
    again = add(console, "cameras.concordnc.gov")
    assert again.status_code == 400
    assert "already an address of this department" in again.content.decode()


def test_one_primary_address_which_cannot_be_removed(console):
    add(console, "cameras.concordnc.gov", primary="on")
    domains = dict(
        Domain.objects.filter(tenant__schema_name="concord").values_list("domain", "is_primary")
    )
    assert domains == {"concord.localhost": False, "cameras.concordnc.gov": True}
    concord = department_id("concord")
    primary = Domain.objects.get(domain="cameras.concordnc.gov")
    response = console.post(f"/console/departments/{concord}/domains/{primary.pk}/remove/")
    assert response.status_code == 400
    assert "is the primary address; make another address primary first" in (
        response.content.decode()
    )
    own = Domain.objects.get(domain="concord.localhost")
    console.post(f"/console/departments/{concord}/domains/{own.pk}/primary/")
    assert Domain.objects.get(domain="concord.localhost").is_primary
    response = console.post(f"/console/departments/{concord}/domains/{primary.pk}/remove/")
    assert response.status_code == 302
    assert not Domain.objects.filter(domain="cameras.concordnc.gov").exists()
    # Removing it again (a second submit): nothing left to remove, said so.
    again = console.post(f"/console/departments/{concord}/domains/{primary.pk}/remove/")
    assert "not one of this department" in again.content.decode()
    # The department's own subdomain stays.
    response = console.post(f"/console/departments/{concord}/domains/{own.pk}/remove/")
    assert response.status_code == 400


def edit_form(console, schema_name="concord") -> dict[str, object]:
    """The edit form as the browser would send it back unchanged."""
    page = console.get(f"/console/departments/{department_id(schema_name)}/edit/").content.decode()
    data: dict[str, object] = {}
    for name, value in re.findall(
        r'<input type="(?:text|number|color)" name="(\w+)" value="([^"]*)"', page
    ):
        data[name] = value
    for name, value in re.findall(r'<input type="[a-z]+" name="(\w+)"[^>]*value="([^"]*)"', page):
        data.setdefault(name, value)
    select = re.search(r'<select name="time_zone".*?<option value="([^"]+)" selected>', page, re.S)
    data["time_zone"] = select.group(1)
    data["languages"] = re.findall(r'name="languages" value="(\w+)"[^>]*checked', page)
    for name in ("welcome_en", "welcome_es", "terms_text"):
        found = re.search(rf'<textarea name="{name}"[^>]*>\n?(.*?)</textarea>', page, re.S)
        data[name] = found.group(1) if found else ""
    data.pop("csrfmiddlewaretoken", None)
    return data


def test_an_edit_changes_branding_and_programme_and_is_recorded(console, host_client):
    data = edit_form(console)
    data |= {
        "display_name": "Concord Cameras",
        "primary_color": "#0f766e",
        "goal_camera_count": "999",
        "logo": png(),
    }
    response = console.post(f"/console/departments/{department_id('concord')}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    concord = Department.objects.select_related("branding", "program").get(schema_name="concord")
    assert concord.branding.display_name == "Concord Cameras"
    assert concord.program.goal_camera_count == 999
    assert concord.branding.logo.name.startswith("logos/concord")
    assert "Concord Cameras" in host_client("concord.localhost").get("/").content.decode()
    entry = PlatformAuditEntry.objects.filter(department_schema="concord").first()
    assert entry.action == Action.DEPARTMENT_EDIT
    assert set(entry.detail["changed"]) == {
        "display_name",
        "primary_color",
        "goal_camera_count",
        "logo",
    }


def test_a_second_submit_of_the_same_edit_records_nothing(console):
    data = edit_form(console) | {"display_name": "Concord Cameras"}
    console.post(f"/console/departments/{department_id('concord')}/edit/", data)
    console.post(f"/console/departments/{department_id('concord')}/edit/", data)
    assert PlatformAuditEntry.objects.filter(action=Action.DEPARTMENT_EDIT).count() == 1


def test_a_new_terms_text_is_a_new_version(console):
    before = Department.objects.get(schema_name="concord").program.terms_version
    data = edit_form(console) | {"terms_text": "New terms, version next."}
    console.post(f"/console/departments/{department_id('concord')}/edit/", data)
    assert Department.objects.get(schema_name="concord").program.terms_version == before + 1
    entry = PlatformAuditEntry.objects.filter(action=Action.DEPARTMENT_EDIT).get()
    assert entry.detail["terms_version"] == before + 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"primary_color": "red"}, "six hex digits"),
        ({"state": "Carolina"}, "at most 2 characters"),
        ({"purge_after_days": "0"}, "greater than or equal to 1"),
        ({"service_radius_m": "10 m"}, "greater than or equal to 500"),
        ({"languages": []}, "This field is required."),
    ],
)
def test_bad_edits_change_nothing(console, changes, message):
    data = edit_form(console) | {"display_name": "Changed"} | changes
    response = console.post(f"/console/departments/{department_id('concord')}/edit/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Department.objects.get(schema_name="concord").branding.display_name != "Changed"
    assert not PlatformAuditEntry.objects.filter(action=Action.DEPARTMENT_EDIT).exists()


def test_a_logo_that_is_not_an_image_is_refused(console):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>", content_type="image/png")
    data = edit_form(console) | {"logo": fake}
    response = console.post(f"/console/departments/{department_id('concord')}/edit/", data)
    assert response.status_code == 400
    assert "The logo must be a PNG, JPEG or WebP image" in response.content.decode()
