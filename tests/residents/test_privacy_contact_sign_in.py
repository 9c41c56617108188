"""Each city's privacy and contact pages (the department's words from its portal settings, per
language, sensible defaults when empty, linked from the footer), where a sign-in lands (a
resident on "My cameras", staff on the console, a `next` first), and the landing page's
questions true for each city: integration explained only where devices are on sale."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from tenants.models import Branding, Department, Program
from tests.billing.plans import HUB_4, plan_make, plans_offer
from tests.conftest import STAFF_PASSWORD, Persona

pytestmark = pytest.mark.django_db

PORTAL = "/department/settings/portal/"


def portal_form(schema_name: str, **changes: object) -> dict[str, object]:
    department = Department.objects.select_related("branding", "program").get(
        schema_name=schema_name
    )
    branding = department.branding
    return {
        "display_name": branding.display_name,
        "primary_color": branding.primary_color,
        "accent_color": branding.accent_color,
        "welcome_en": branding.welcome_en,
        "welcome_es": branding.welcome_es,
        "languages": branding.languages,
        "terms_text": department.program.terms_text,
    } | changes


# --- The footer's links -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/privacy/", "/contact/", "/transparency/"])
def test_the_footer_links_the_privacy_and_contact_pages(concord_client, path):
    html = concord_client.get(path).content.decode()
    assert 'href="/privacy/"' in html and 'href="/contact/"' in html


# --- Defaults ---------------------------------------------------------------------------------


def test_the_default_privacy_page_says_what_the_system_does(concord_client):
    page = concord_client.get("/privacy/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>Privacy and terms</h1>" in html
    assert "The Concord Police Department keeps what you register" in html
    assert "Program terms (version 1)" in html
    # Concord sells no devices: no word of live views but that there are none.
    assert "registers camera locations only" in html


def test_the_default_privacy_page_of_a_city_with_devices_explains_integration(
    littlerock_client,
):
    plans_offer("littlerock", plan_make(HUB_4))
    html = littlerock_client.get("/privacy/").content.decode()
    assert "If you choose to integrate a camera through a paid device" in html
    assert "registers camera locations only" not in html


def test_the_default_contact_page_names_the_department(carrollton_client):
    with schema_context("public"):
        Program.objects.filter(department__schema_name="carrollton").update(reply_to_email="")
    html = carrollton_client.get("/contact/").content.decode()
    assert "<h1>Contact</h1>" in html
    assert "Carrollton Police" in html
    assert "usual non-emergency line in Carrollton, GA" in html
    assert "call 911" in html


def test_the_contact_page_falls_back_on_the_reply_to_address(concord_client):
    Program.objects.filter(department__schema_name="concord").update(
        reply_to_email="cameras@concordnc.gov"
    )
    html = concord_client.get("/contact/").content.decode()
    assert 'href="mailto:cameras@concordnc.gov"' in html


def test_the_pages_speak_spanish_by_default(concord_client):
    concord_client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    privacy = concord_client.get("/privacy/").content.decode()
    assert "<h1>Privacidad y condiciones</h1>" in privacy
    assert "guarda lo que usted registra" in privacy
    contact = concord_client.get("/contact/").content.decode()
    assert "<h1>Contacto</h1>" in contact
    assert "llame al 911" in contact


# --- Set by the department ------------------------------------------------------------------


def test_the_department_sets_its_pages_in_each_language(admin, concord_client):
    response = admin.client.post(
        PORTAL,
        portal_form(
            "concord",
            privacy_en="Concord keeps registrations under policy 7.12.",
            privacy_es="Concord guarda los registros según la política 7.12.",
            contact_en="Community Services Unit, 41 Cabarrus Ave W.",
            contact_es="",
            contact_phone="(704) 920-5000",
            contact_email="cameras@concordnc.gov",
        ),
    )
    assert response.status_code == 302
    privacy = concord_client.get("/privacy/").content.decode()
    assert "Concord keeps registrations under policy 7.12." in privacy
    assert "keeps what you register" not in privacy
    contact = concord_client.get("/contact/").content.decode()
    assert "Community Services Unit, 41 Cabarrus Ave W." in contact
    assert 'href="tel:(704)920-5000"' in contact
    assert 'href="mailto:cameras@concordnc.gov"' in contact
    concord_client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert "según la política 7.12." in concord_client.get("/privacy/").content.decode()
    # No Spanish contact text: the English one stands in.
    assert "Community Services Unit" in concord_client.get("/contact/").content.decode()


def test_the_settings_page_shows_the_fields_after_the_others(admin):
    html = admin.client.get(PORTAL).content.decode()
    assert html.index('name="listed"') < html.index('name="privacy_en"')
    assert html.index('name="privacy_en"') < html.index('name="contact_email"')


def test_a_bad_contact_email_is_refused_and_nothing_is_saved(admin):
    response = admin.client.post(
        PORTAL, portal_form("concord", privacy_en="New words", contact_email="not an email")
    )
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert Branding.objects.get(department__schema_name="concord").privacy_en == ""


def test_a_settings_form_without_the_page_fields_keeps_them(admin):
    Branding.objects.filter(department__schema_name="concord").update(privacy_en="Kept.")
    admin.client.post(PORTAL, portal_form("concord", welcome_en="Hello"))
    assert Branding.objects.get(department__schema_name="concord").privacy_en == "Kept."


# --- Where a sign-in lands --------------------------------------------------------------------


def test_a_resident_lands_on_my_cameras(make_resident, concord_client, sign_in):
    resident = make_resident("concord")
    resident.client.logout()
    response = sign_in(concord_client, resident)
    assert response.status_code == 302
    assert response["Location"] == "/my/"


def test_a_resident_in_spanish_lands_on_my_cameras_too(make_resident, concord_client, sign_in):
    resident = make_resident("concord", language="es")
    concord_client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    response = sign_in(concord_client, resident)
    assert response["Location"] == "/my/"
    landed = concord_client.get("/my/")
    assert landed.status_code == 200
    assert '<html lang="es">' in landed.content.decode()


def test_staff_land_on_the_console(make_staff, concord_client, sign_in):
    staff = make_staff("concord", "investigator", signed_in=False)
    response = sign_in(concord_client, Persona(staff.email, STAFF_PASSWORD, "concord"))
    assert response.status_code == 302
    assert response["Location"] == "/department/"


def test_a_page_that_asked_for_sign_in_wins(make_resident, concord_client):
    resident = make_resident("concord")
    response = concord_client.post(
        "/accounts/login/?next=/my/access/",
        {"login": resident.email, "password": resident.password},
    )
    assert response["Location"] == "/my/access/"


# --- The landing page's questions -------------------------------------------------------------


def test_a_city_without_devices_says_there_is_no_integration(concord_client):
    html = concord_client.get("/").content.decode()
    assert "This department offers no integration" in html
    assert "What does integrating mean?" not in html


def test_a_city_with_devices_explains_integration_and_never_says_no_live_view(
    littlerock_client,
):
    plans_offer("littlerock", plan_make(HUB_4))
    html = littlerock_client.get("/").content.decode()
    assert "What does integrating mean?" in html
    assert "Not if you register." in html
    assert "This department offers no integration" not in html
    assert "There is no live view" not in html


def test_the_questions_speak_spanish_in_each_case(concord_client, littlerock_client):
    concord_client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert "Este departamento no ofrece integración" in concord_client.get("/").content.decode()
    plans_offer("littlerock", plan_make(HUB_4))
    littlerock_client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    assert "¿Qué significa integrar?" in littlerock_client.get("/").content.decode()
