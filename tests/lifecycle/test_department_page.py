"""The vendor's department page: what a city is and holds, read in its own schema, for every
vendor role that may see departments; the actions only for the roles that may take them."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tests.lifecycle.conftest import department_id

pytestmark = pytest.mark.django_db


def test_the_departments_list_links_each_department_page(console):
    page = console.get("/console/").content.decode()
    assert f'href="/console/departments/{department_id("concord")}/"' in page


def test_the_page_shows_domains_branding_counts_and_license(console, make_resident, site_data):
    alice = make_resident("concord", email="alice-page@example.org")
    alice.client.post("/register/", site_data())
    page = console.get(f"/console/departments/{department_id('concord')}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "concord.localhost" in text
    assert "Concord Community Camera Registry" in text
    with schema_context("concord"):
        from portal.registry.models import Site, StaffMember

        sites = Site.objects.count()
        searchable = Site.objects.searchable().count()
        staff = StaffMember.objects.filter(user__is_active=True).count()
    assert f"{sites} registered: {searchable} searchable" in text
    assert f"{staff} active account" in text
    assert "License" in text and "Devices" in text
    # The other helpers' panels are part of the page.
    assert "Suspend Concord Police Department" in text
    assert "Delete Concord Police Department for good" in text


def test_counts_are_the_department_s_own(console, make_resident, site_data):
    """Same ids in two cities: each page counts its own schema."""
    for city, email in (("concord", "c1@example.org"), ("concord", "c2@example.org")):
        make_resident(city, email=email).client.post("/register/", site_data())
    with schema_context("carrollton"):
        from portal.registry.models import Site

        carrollton_sites = Site.objects.count()
    page = console.get(f"/console/departments/{department_id('carrollton')}/").content.decode()
    assert f"{carrollton_sites} registered" in page


@pytest.mark.parametrize("role", ["support", "billing"])
def test_support_and_billing_staff_see_the_page_without_the_actions(vendor_as, role):
    client = vendor_as(role)
    page = client.get(f"/console/departments/{department_id('concord')}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Suspend Concord" not in text
    assert "for good" not in text
    assert "Edit the department" not in text


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("suspend/", {"reason": "Unpaid"}),
        ("delete/", {"confirmation": "concord"}),
        ("domains/", {"hostname": "cameras.concord.example.org"}),
        ("edit/", {}),
    ],
)
def test_support_staff_may_not_change_a_department(vendor_as, path, data):
    from tenants.models import Department, Domain

    client = vendor_as("support")
    response = client.post(f"/console/departments/{department_id('concord')}/{path}", data)
    assert response.status_code == 403
    concord = Department.objects.get(schema_name="concord")
    assert concord.status == Department.Status.ACTIVE
    assert not Domain.objects.filter(domain="cameras.concord.example.org").exists()


def test_an_unknown_department_is_a_404(console):
    assert console.get("/console/departments/999999/").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(platform_client):
    response = platform_client.get(f"/console/departments/{department_id('concord')}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_city_host_does_not_serve_the_page(concord_client):
    assert (
        concord_client.get(f"/console/departments/{department_id('concord')}/").status_code == 404
    )
