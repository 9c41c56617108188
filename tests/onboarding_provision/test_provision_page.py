"""The provisioning page: the onboarding form pre-filled from the request, only for approved
requests, only for vendor staff who manage departments; a second click finds it provisioned."""

from __future__ import annotations

import pytest
from django.core import mail
from onboarding.models import ProgramRequest, ProgramRequestEvent

from tenants.models import Department
from tests.onboarding_provision.conftest import form_data, provision_path, vendor_client

pytestmark = pytest.mark.django_db


def test_the_form_is_pre_filled_from_the_request(console, make_request, fake_stripe):
    request = make_request(
        agency_name="Little Rock Police Department",
        city="Little Rock",
        state="AR",
        time_zone="America/Chicago",
        subdomain="lrpd",
        contact_email="chief@lrpd.example.org",
        expected_cameras=30_000,
        purchasing=ProgramRequest.Purchasing.COOPERATIVE,
        purchasing_note="Sourcewell 010720",
    )
    response = console.get(provision_path(request))
    assert response.status_code == 200
    form = response.context["form"]
    values = {name: form[name].value() for name in form.fields}
    assert values["subdomain"] == "lrpd"
    assert values["name"] == "Little Rock Police Department"
    assert (values["city"], values["state"], values["time_zone"]) == (
        "Little Rock",
        "AR",
        "America/Chicago",
    )
    assert values["display_name"] == "Little Rock Community Camera Registry"
    assert abs(values["center_latitude"] - 34.75) < 0.1
    assert abs(values["center_longitude"] - (-92.3)) < 0.1
    assert values["service_radius_m"] == "4.971"  # 8,000 m, in miles
    assert values["goal_camera_count"] == 30_000
    assert values["administrator_email"] == "chief@lrpd.example.org"
    assert values["languages"] == ["en", "es"]
    assert values["amount"] == 12_000  # the Metro tier, in dollars
    assert values["contract"] == "Sourcewell 010720"
    assert values["po_number"] == ""
    page = response.content.decode()
    assert 'value="lrpd"' in page
    assert 'value="12000' in page


def test_a_city_the_zip_data_does_not_know_leaves_the_centre_for_staff(
    console, make_request, fake_stripe
):
    request = make_request(city="Nowhereville", state="ZZ")
    form = console.get(provision_path(request)).context["form"]
    assert form["center_latitude"].value() is None
    assert form["center_longitude"].value() is None


def test_a_second_click_finds_it_provisioned(
    console, approved, fake_stripe, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = console.post(provision_path(approved), form_data(approved))
    assert first.status_code == 302
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        second = console.post(provision_path(approved), form_data(approved))
    assert second.status_code == 409
    department = Department.objects.get(schema_name="springfield")
    page = second.content.decode()
    assert "This request was provisioned already: Springfield Police Department is live." in page
    assert f'href="/console/departments/{department.pk}/"' in page
    assert len(mail.outbox) == sent
    assert Department.objects.filter(schema_name="springfield").count() == 1
    assert approved.events.filter(kind=ProgramRequestEvent.Kind.PROVISIONED).count() == 1
    assert not approved.events.filter(kind=ProgramRequestEvent.Kind.FAILED).exists()
    # The page itself, opened again, links to the department.
    shown = console.get(provision_path(approved))
    assert shown.status_code == 200
    assert f'href="/console/departments/{department.pk}/"' in shown.content.decode()


@pytest.mark.parametrize(
    "status",
    [
        ProgramRequest.Status.UNCONFIRMED,
        ProgramRequest.Status.NEW,
        ProgramRequest.Status.IN_REVIEW,
        ProgramRequest.Status.DECLINED,
    ],
)
def test_a_request_not_approved_is_refused(console, make_request, fake_stripe, status):
    request = make_request(status=status)
    page = console.get(provision_path(request))
    assert page.status_code == 409
    assert "Only an approved request can be provisioned" in page.content.decode()
    response = console.post(provision_path(request), form_data(request))
    assert response.status_code == 409
    assert not Department.objects.filter(schema_name="springfield").exists()
    request.refresh_from_db()
    assert request.status == status
    assert fake_stripe.requests == []


def test_provisioning_one_request_leaves_another_with_the_same_city_alone(
    console, make_request, fake_stripe, django_capture_on_commit_callbacks
):
    first = make_request()
    second = make_request(subdomain="springfield-pd")
    with django_capture_on_commit_callbacks(execute=True):
        console.post(provision_path(first), form_data(first))
    second.refresh_from_db()
    assert second.status == ProgramRequest.Status.APPROVED
    assert second.department is None
    assert not second.events.exists()


def test_an_unknown_request_is_404(console):
    assert console.get("/console/requests/999999/provision/").status_code == 404


def test_only_vendor_staff_who_manage_departments_provision(
    host_client, platform_client, approved, fake_stripe
):
    anonymous = platform_client.post(provision_path(approved), form_data(approved))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    for role in ("support", "billing"):
        client = vendor_client(host_client, role)
        assert client.get(provision_path(approved)).status_code == 403
        assert client.post(provision_path(approved), form_data(approved)).status_code == 403
    assert not Department.objects.filter(schema_name="springfield").exists()
    approved.refresh_from_db()
    assert approved.status == ProgramRequest.Status.APPROVED


def test_a_city_host_does_not_serve_the_page(concord_client, concord_admin, sign_in, approved):
    sign_in(concord_client, concord_admin)
    assert concord_client.get(provision_path(approved)).status_code == 404
