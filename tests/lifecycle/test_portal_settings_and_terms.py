"""A department's administrator sets their own portal (name, colours, logo, welcome texts,
languages, terms) in the console, in English or Spanish; a changed terms text is a new version,
and a participant who accepted older terms is asked to accept the new ones at their next visit,
once, end to end over HTTP."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from portal.registry.models import Site
from tenants.models import Department

pytestmark = pytest.mark.django_db
PAGE = "/department/settings/portal/"


def program():
    return Department.objects.select_related("program", "branding").get(schema_name="concord")


def form_data(**changes: object) -> dict[str, object]:
    concord = program()
    branding = concord.branding
    return {
        "display_name": branding.display_name,
        "primary_color": branding.primary_color,
        "accent_color": branding.accent_color,
        "welcome_en": branding.welcome_en,
        "welcome_es": branding.welcome_es,
        "languages": branding.languages,
        "terms_text": concord.program.terms_text,
    } | changes


def png(size=(64, 64)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#0f766e").save(buffer, format="PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def test_the_settings_page_links_the_portal_page(admin):
    page = admin.client.get("/department/settings/").content.decode()
    assert f'href="{PAGE}"' in page
    assert admin.client.get(PAGE).status_code == 200


def test_only_administrators_reach_it(investigator, make_resident):
    assert investigator.client.get(PAGE).status_code == 403
    assert investigator.client.post(PAGE, form_data(display_name="X")).status_code == 403
    alice = make_resident("concord", email="alice-settings@example.org")
    assert alice.client.get(PAGE).status_code == 403
    assert program().branding.display_name != "X"


def test_an_administrator_changes_branding_and_the_portal_shows_it(admin, concord_client):
    response = admin.client.post(
        PAGE,
        form_data(
            display_name="Concord Cameras Together",
            welcome_en="Join your neighbours.",
            primary_color="#0f766e",
            logo=png(),
        ),
    )
    assert response.status_code == 302
    concord = program()
    assert concord.branding.logo.name.startswith("logos/concord")
    landing = concord_client.get("/").content.decode()
    assert "Concord Cameras Together" in landing
    assert "Join your neighbours." in landing


def test_the_languages_the_portal_offers(admin, concord_client):
    admin.client.post(PAGE, form_data(languages=["es"]))
    assert program().branding.languages == ["es"]
    page = concord_client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'lang="es"' in page


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"primary_color": "#12345"}, "six hex digits"),
        ({"display_name": "X"}, "at least 2 characters"),
        ({"languages": []}, "This field is required."),
        ({"logo": SimpleUploadedFile("logo.png", b"<svg/>")}, "must be a PNG, JPEG or WebP"),
    ],
)
def test_bad_settings_change_nothing(admin, changes, message):
    before = program()
    response = admin.client.post(PAGE, form_data(terms_text="Changed terms", **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    after = program()
    assert after.program.terms_version == before.program.terms_version
    assert after.program.terms_text == before.program.terms_text


def test_a_too_large_logo_is_refused(admin, settings):
    settings.LOGO_MAX_PIXELS = 32
    response = admin.client.post(PAGE, form_data(logo=png((64, 64))))
    assert response.status_code == 400
    assert "at most 32 on each side" in response.content.decode()


def test_the_page_is_in_spanish_for_a_spanish_speaker(admin):
    admin.client.cookies["django_language"] = "es"
    page = admin.client.get(PAGE, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Su portal" in page
    assert "Términos del programa" in page


def test_new_terms_are_accepted_by_participants_at_their_next_visit(
    admin, make_resident, site_data
):
    alice = make_resident("concord", email="alice-terms@example.org")
    assert alice.client.post("/register/", site_data()).status_code == 302
    version = program().program.terms_version
    assert alice.client.get("/my/").status_code == 200

    response = admin.client.post(PAGE, form_data(terms_text="Footage is kept 30 days."))
    assert response.status_code == 302
    assert program().program.terms_version == version + 1
    # A second submit of the same text is not another version.
    admin.client.post(PAGE, form_data(terms_text="Footage is kept 30 days."))
    assert program().program.terms_version == version + 1

    # Alice's next visit: the new terms first, whatever page she opens.
    visit = alice.client.get("/my/")
    assert visit.status_code == 302
    assert visit["Location"] == "/my/terms/?next=%2Fmy%2F"
    assert alice.client.get("/my/access/")["Location"].startswith("/my/terms/")
    terms = alice.client.get(visit["Location"]).content.decode()
    assert "Footage is kept 30 days." in terms
    assert f"version {version + 1}" in terms
    # Not accepting is refused with the reason, and nothing changes.
    refused = alice.client.post("/my/terms/", {"next": "/my/"})
    assert refused.status_code == 400
    assert "accept the new terms, or leave the program" in refused.content.decode()
    accepted = alice.client.post("/my/terms/", {"accept_terms": "on", "next": "/my/"})
    assert accepted.status_code == 302 and accepted["Location"] == "/my/"
    with schema_context("concord"):
        site = Site.objects.get(participant__user__email="alice-terms@example.org")
        assert site.terms_version == version + 1
        assert site.terms_accepted_at is not None
    # Once only.
    assert alice.client.get("/my/").status_code == 200


def test_a_participant_registered_after_the_change_is_not_asked(admin, make_resident, site_data):
    admin.client.post(PAGE, form_data(terms_text="Version for newcomers."))
    bob = make_resident("concord", email="bob-terms@example.org")
    bob.client.post("/register/", site_data(contact_email="bob-terms@example.org"))
    assert bob.client.get("/my/").status_code == 200


def test_the_terms_page_sends_only_to_this_portal(admin, make_resident, site_data):
    alice = make_resident("concord", email="alice-next@example.org")
    alice.client.post("/register/", site_data())
    admin.client.post(PAGE, form_data(terms_text="Another text."))
    response = alice.client.post(
        "/my/terms/", {"accept_terms": "on", "next": "https://evil.example.org/"}
    )
    assert response["Location"] == "/my/"
