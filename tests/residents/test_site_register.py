"""A resident registers a site with its cameras, contact and consent; every rule is checked."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.registry.models import Camera, Site

pytestmark = pytest.mark.django_db


def sites_in(schema_name: str) -> int:
    with schema_context(schema_name):
        return Site.objects.count()


def test_a_resident_registers_a_site_with_two_cameras(make_resident, site_data):
    alice = make_resident("concord")
    response = alice.client.post("/register/", site_data(cameras=2))
    assert response.status_code == 302
    assert response["Location"] == "/my/"
    with schema_context("concord"):
        site = Site.objects.get()
        assert site.participant.user.email == "alice@example.org"
        assert site.address == "77 Union St S, Concord, NC 28025"
        assert (site.latitude, site.longitude) == (35.408, -80.581)
        assert site.contact_phone == "+17045550142"
        assert site.terms_version == 1
        assert site.terms_accepted_at is not None
        cameras = list(site.cameras.order_by("pk"))
        assert [camera.direction for camera in cameras] == [0, 90]
        assert cameras[0].sees == ["street", "sidewalk"]
        assert cameras[0].retention_days == 14
        assert cameras[0].night_vision
    page = alice.client.get("/my/").content.decode()
    assert "77 Union St S, Concord, NC 28025" in page
    assert "Your site is registered." in page


def test_the_site_exists_only_in_its_own_city(make_resident, site_data):
    make_resident("concord").client.post("/register/", site_data())
    assert sites_in("concord") == 1
    assert sites_in("carrollton") == 0


def test_the_form_explains_in_spanish(make_resident):
    alice = make_resident("concord")
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = alice.client.get("/register/").content.decode()
    assert "Registrar un sitio" in page
    assert "Cámara 1" in page


def test_errors_come_in_spanish(make_resident, site_data):
    alice = make_resident("concord")
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = alice.client.post("/register/", site_data(latitude="abc")).content.decode()
    assert "Introduzca un número." in page


def test_the_chosen_language_is_kept_for_emails(make_resident, site_data):
    alice = make_resident("concord")
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    alice.client.post("/register/", site_data())
    assert alice.participant.language == "es"


def test_a_location_outside_the_service_area_is_refused(make_resident, site_data):
    alice = make_resident("concord")
    page = alice.client.post("/register/", site_data(latitude="34.7465", longitude="-92.2896"))
    assert page.status_code == 200
    assert "outside the area this department serves" in page.content.decode()
    assert sites_in("concord") == 0


@pytest.mark.parametrize(
    ("schema", "where"),
    [("concord", {}), ("carrollton", {"latitude": "33.58", "longitude": "-85.07"})],
)
def test_integration_cannot_be_chosen_by_hand_in_any_city(make_resident, site_data, schema, where):
    """Integration is bought (billing makes a site integrated when its device is paid for):
    the registration form has no choice for it, and a forged field is ignored."""
    owner = make_resident(schema)
    assert 'name="participation"' not in owner.client.get("/register/").content.decode()
    owner.client.post("/register/", site_data(participation="integrated", **where))
    with schema_context(schema):
        site = Site.objects.get()
        assert site.participation == "registered"
    owner.client.post(f"/my/sites/{site.pk}/", site_data(participation="integrated", **where))
    with schema_context(schema):
        assert Site.objects.get().participation == "registered"


def test_a_yard_sign_can_be_requested_with_a_delivery_address(make_resident, site_data):
    alice = make_resident("concord")
    alice.client.post(
        "/register/",
        site_data(yard_sign_requested="on", yard_sign_address="PO Box 12, Concord NC"),
    )
    with schema_context("concord"):
        site = Site.objects.get()
        assert site.yard_sign_requested
        assert site.yard_sign_address == "PO Box 12, Concord NC"


def test_html_is_stored_as_text_and_shown_escaped(make_resident, site_data):
    alice = make_resident("concord")
    script = '<script>alert("x")</script>'
    alice.client.post("/register/", site_data(address=f"1 Main St {script}", contact_name=script))
    with schema_context("concord"):
        assert Site.objects.get().contact_name == script
    page = alice.client.get("/my/").content.decode()
    assert script not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("latitude", "abc", "Enter a number."),
        ("latitude", "91", "Ensure this value is less than or equal to 90."),
        ("longitude", "-181", "Ensure this value is greater than or equal to -180."),
        ("latitude", "nan", "Enter a number."),
        ("longitude", "", "Give both coordinates, or leave both empty."),
        ("address", "", "This field is required."),
        ("address", "x" * 201, "Ensure this value has at most 200 characters (it has 201)."),
        ("kind", "castle", "Select a valid choice. castle is not one of the available choices."),
        ("contact_name", "", "This field is required."),
        ("contact_name", "y" * 101, "Ensure this value has at most 100 characters"),
        ("contact_phone", "call me maybe", "Enter a phone number, e.g. (704) 555-0142."),
        ("contact_phone", "555-0000", "cannot be a phone number"),
        ("contact_phone", "12345678901234567890", "cannot be a phone number"),
        ("contact_email", "not-an-email", "Enter a valid email address."),
        ("contact_method", "pigeon", "Select a valid choice."),
        ("contact_hours", "z" * 101, "Ensure this value has at most 100 characters"),
        ("yard_sign_address", "w" * 201, "Ensure this value has at most 200 characters"),
        ("accept_terms", "", "You must agree to the terms to register."),
        ("cameras-0-label", "", "This field is required."),
        ("cameras-0-label", "l" * 81, "Ensure this value has at most 80 characters"),
        ("cameras-0-direction", "north", "Enter the direction as a whole number of degrees"),
        ("cameras-0-direction", "360", "Enter the direction as a whole number of degrees"),
        ("cameras-0-direction", "-1", "from 0 to 359: 0 is north, 90 east"),
        ("cameras-0-retention_days", "-3", "Ensure this value is greater than or equal to 1."),
        ("cameras-0-retention_days", "0", "Ensure this value is greater than or equal to 1."),
        ("cameras-0-retention_days", "400", "Ensure this value is less than or equal to 365."),
        ("cameras-0-sees", [], "Choose at least one thing the camera sees."),
        ("cameras-0-sees", ["street", "faces"], "Select a valid choice. faces is not one"),
        ("cameras-0-mount", "ceiling-fan", "Select a valid choice."),
        ("cameras-0-recording", "sometimes", "Select a valid choice."),
    ],
)
def test_each_rule_is_checked_and_nothing_is_written(
    make_resident, site_data, field, value, message
):
    alice = make_resident("concord")
    response = alice.client.post("/register/", site_data(**{field: value}))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page.replace("&#x27;", "'")
    assert 'aria-invalid="true"' in page
    assert "autofocus" in page
    with schema_context("concord"):
        assert Site.objects.count() == 0
        assert Camera.objects.count() == 0


def test_phone_or_text_needs_a_phone_number(make_resident, site_data):
    alice = make_resident("concord")
    page = alice.client.post(
        "/register/", site_data(contact_phone="", contact_method="text")
    ).content.decode()
    assert "Give a phone number to be called or texted." in page
    assert sites_in("concord") == 0


def test_email_contact_needs_an_email_address(make_resident, site_data):
    alice = make_resident("concord")
    page = alice.client.post(
        "/register/", site_data(contact_email="", contact_method="email")
    ).content.decode()
    assert "Give an email address to be emailed." in page


def test_a_site_needs_at_least_one_camera(make_resident, site_data):
    alice = make_resident("concord")
    data = site_data()
    data = {key: value for key, value in data.items() if not key.startswith("cameras-0-")}
    page = alice.client.post("/register/", data).content.decode()
    assert "This field is required." in page
    assert sites_in("concord") == 0


def test_more_than_twenty_cameras_are_refused(make_resident, site_data):
    alice = make_resident("concord")
    page = alice.client.post("/register/", site_data(cameras=21)).content.decode()
    assert "Please submit at most 20 forms." in page
    assert sites_in("concord") == 0


def test_an_oversized_request_is_refused_without_an_error_page(make_resident, site_data):
    alice = make_resident("concord")
    response = alice.client.post("/register/", site_data(contact_hours="h" * 3_000_000))
    assert response.status_code == 400
    assert "it may be too large or incomplete" in response.content.decode()
    assert sites_in("concord") == 0


def test_anonymous_visitors_are_sent_to_sign_in(concord_client):
    response = concord_client.get("/register/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/register/"


def test_department_staff_cannot_register(concord_client, concord_admin, sign_in):
    sign_in(concord_client, concord_admin)
    response = concord_client.get("/register/")
    assert response.status_code == 403
    assert "Residents only" in response.content.decode()
