"""A new department's dashboard shows its administrator the setup steps of the welcome email,
each ticked off by doing it for real on its own page; demo and older cities see none."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context
from PIL import Image

from portal.department.models import SetupChecklist
from portal.registry.models import ImportJob, Site
from tenants.models import Department
from tests.onboarding_checklist.conftest import springfield_csv

pytestmark = pytest.mark.django_db
HOME = "/department/"
SETUP = "/department/setup/"
PORTAL = "/department/settings/portal/"


def page(client, **headers) -> str:
    response = client.get(HOME, **headers)
    assert response.status_code == 200
    return response.content.decode()


def checklist(html: str) -> str:
    """The checklist's section of the dashboard, or "" without one."""
    found = re.search(r'<section class="setup card".*?</section>', html, re.S)
    return found.group(0) if found else ""


def state(html: str, step: str) -> str:
    """The state of one step, as its text says it."""
    item = re.search(rf'<li class="setup__step[^"]*" id="setup-step-{step}">(.*?)</li>', html, re.S)
    assert item, f"no {step} step"
    return re.search(r'<strong class="setup__state">\((.*?)\)</strong>', item.group(1)).group(1)


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


def png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "#0f766e").save(buffer, format="PNG")
    return SimpleUploadedFile("logo.png", buffer.getvalue(), content_type="image/png")


def test_a_new_department_starts_with_nothing_done(springfield):
    html = checklist(page(springfield.client))
    assert "Set up your program" in html
    assert "0 of 4 done" in html
    assert '<progress class="setup__bar" max="4" value="0"' in html
    for step in ("branding", "terms", "staff", "import"):
        assert state(html, step) == "To do"
    # Each step links to the page where it is done.
    assert f'href="{PORTAL}"' in html
    assert f'href="{PORTAL}#id_terms_text"' in html
    assert 'href="/department/staff/"' in html
    assert 'href="/department/import/"' in html
    assert 'aria-labelledby="setup-title"' in html
    assert 'aria-describedby="setup-progress"' in html


def test_saving_the_portal_settings_unchanged_does_not_tick_branding(springfield):
    response = springfield.client.post(PORTAL, portal_form("springfield"))
    assert response.status_code == 302
    assert state(checklist(page(springfield.client)), "branding") == "To do"


def test_uploading_a_logo_ticks_branding(springfield):
    response = springfield.client.post(PORTAL, portal_form("springfield", logo=png()))
    assert response.status_code == 302
    html = checklist(page(springfield.client))
    assert state(html, "branding") == "Done"
    assert state(html, "terms") == "To do"
    assert "1 of 4 done" in html


@pytest.mark.parametrize(
    "change",
    [{"welcome_en": "Register your camera with Springfield PD."}, {"primary_color": "#0f766e"}],
)
def test_a_welcome_text_or_a_colour_ticks_branding(springfield, change):
    springfield.client.post(PORTAL, portal_form("springfield", **change))
    assert state(checklist(page(springfield.client)), "branding") == "Done"


def test_writing_terms_ticks_terms(springfield):
    springfield.client.post(
        PORTAL, portal_form("springfield", terms_text="Video is never viewed live.")
    )
    html = checklist(page(springfield.client))
    assert state(html, "terms") == "Done"
    assert state(html, "branding") == "To do"  # terms are their own step


def test_inviting_a_staff_member_ticks_staff(springfield):
    response = springfield.client.post(
        "/department/staff/", {"email": "det@springfield.example.org", "role": "investigator"}
    )
    assert response.status_code == 302
    assert state(checklist(page(springfield.client)), "staff") == "Done"


def test_a_committed_import_ticks_import(springfield):
    response = springfield.client.post(
        "/department/import/", {"file": springfield_csv()}, follow=True
    )
    job_path = response.redirect_chain[-1][0]
    # Checked, not written yet: still to do.
    assert state(checklist(page(springfield.client)), "import") == "To do"
    springfield.client.post(f"{job_path}commit/")
    with schema_context("springfield"):
        assert ImportJob.objects.get().status == ImportJob.Status.DONE
        assert Site.objects.count() == 1
    html = checklist(page(springfield.client))
    assert state(html, "import") == "Done"
    assert "Not needed: we have no existing list" not in html


def test_a_cancelled_import_does_not_tick_import(springfield):
    response = springfield.client.post(
        "/department/import/", {"file": springfield_csv()}, follow=True
    )
    springfield.client.post(f"{response.redirect_chain[-1][0]}cancel/")
    assert state(checklist(page(springfield.client)), "import") == "To do"


def test_the_import_can_be_declared_not_needed_and_taken_back(springfield):
    response = springfield.client.post(SETUP, {"change": "import_not_needed"}, follow=True)
    html = response.content.decode()
    assert "Noted: you have no existing list to import." in html
    assert state(checklist(html), "import") == "Not needed"
    assert "1 of 4 done" in checklist(html)
    assert "Marked not needed by chief@springfield.example.org on" in html
    with schema_context("springfield"):
        row = SetupChecklist.objects.select_related("import_waived_by__user").get()
        assert row.import_waived_by.user.email == "chief@springfield.example.org"
        assert row.import_waived_at is not None

    response = springfield.client.post(SETUP, {"change": "import_needed"}, follow=True)
    html = checklist(response.content.decode())
    assert state(html, "import") == "To do"
    assert "0 of 4 done" in html
    with schema_context("springfield"):
        assert SetupChecklist.objects.get().import_waived_at is None


def test_an_unknown_change_is_refused_with_a_message(springfield):
    response = springfield.client.post(SETUP, {"change": "everything_done"}, follow=True)
    assert "Unknown change to the setup steps." in response.content.decode()
    assert "0 of 4 done" in response.content.decode()


def test_an_incomplete_checklist_cannot_be_hidden(springfield):
    response = springfield.client.post(SETUP, {"change": "hide"}, follow=True)
    html = response.content.decode()
    assert "The setup steps can be hidden once every one is done." in html
    assert "Set up your program" in html
    with schema_context("springfield"):
        assert SetupChecklist.objects.get().hidden_at is None


def complete(city) -> None:
    """Every step, each on its own page."""
    city.client.post(PORTAL, portal_form(city.schema_name, logo=png(), terms_text="Our terms."))
    city.client.post(
        "/department/staff/", {"email": f"det@{city.schema_name}.example.org", "role": "analyst"}
    )
    city.client.post(SETUP, {"change": "import_not_needed"})


def test_a_complete_checklist_is_hidden_for_good_and_can_be_shown_again(springfield):
    complete(springfield)
    html = page(springfield.client)
    assert "Setup complete" in checklist(html)
    assert "4 of 4 done" in checklist(html)

    html = springfield.client.post(SETUP, {"change": "hide"}, follow=True).content.decode()
    assert "The setup steps are hidden." in html
    assert checklist(html) == ""
    assert "Show setup steps" in html
    # Hidden for good: a step later undone does not bring it back.
    springfield.client.post(PORTAL, portal_form("springfield", terms_text=""))
    html = page(springfield.client)
    assert checklist(html) == ""

    html = springfield.client.post(SETUP, {"change": "show"}, follow=True).content.decode()
    assert "The setup steps are shown again." in html
    assert "3 of 4 done" in checklist(html)
    assert state(checklist(html), "terms") == "To do"


def test_investigators_see_no_checklist_and_cannot_change_it(springfield, make_staff):
    investigator = make_staff("springfield", "investigator")
    html = page(investigator.client)
    assert "Dashboard" in html
    assert checklist(html) == ""
    assert "Show setup steps" not in html
    assert investigator.client.post(SETUP, {"change": "import_not_needed"}).status_code == 403
    with schema_context("springfield"):
        assert SetupChecklist.objects.get().import_waived_at is None


def test_the_checklist_in_spanish(springfield):
    springfield.client.cookies["django_language"] = "es"
    html = checklist(page(springfield.client, HTTP_ACCEPT_LANGUAGE="es"))
    assert "Configure su programa" in html
    assert "0 de 4 hechos" in html
    assert "Pendiente" in html
    assert "Invite a su personal" in html
    assert "No hace falta: no tenemos una lista existente" in html
    springfield.client.post(SETUP, {"change": "import_not_needed"})
    html = checklist(page(springfield.client, HTTP_ACCEPT_LANGUAGE="es"))
    assert "No hace falta</strong>" in html.replace(")</strong>", "</strong>")


def test_a_dismissal_in_one_city_leaves_another_alone(springfield, shelbyville):
    with schema_context("springfield"):
        springfield_row = SetupChecklist.objects.get()
    with schema_context("shelbyville"):
        assert SetupChecklist.objects.get().pk == springfield_row.pk  # the same id
    springfield.client.post(SETUP, {"change": "import_not_needed"})
    springfield.client.post(
        "/department/staff/", {"email": "det@springfield.example.org", "role": "analyst"}
    )
    assert state(checklist(page(springfield.client)), "import") == "Not needed"
    html = checklist(page(shelbyville.client))
    assert state(html, "import") == "To do"
    assert state(html, "staff") == "To do"
    assert "0 of 4 done" in html
    # And back: Shelbyville's answer does not undo Springfield's.
    shelbyville.client.post(SETUP, {"change": "import_not_needed"})
    shelbyville.client.post(SETUP, {"change": "import_needed"})
    assert state(checklist(page(springfield.client)), "import") == "Not needed"


@pytest.mark.parametrize("city", ["concord", "carrollton", "littlerock"])
def test_the_demo_cities_show_no_checklist(make_staff, city):
    administrator = make_staff(city, "administrator")
    html = page(administrator.client)
    assert checklist(html) == ""
    assert "Show setup steps" not in html
    with schema_context(city):
        assert not SetupChecklist.objects.exists()
    # Nor can one be made up for them.
    response = administrator.client.post(SETUP, {"change": "show"}, follow=True)
    assert "This department has no setup steps." in response.content.decode()
    with schema_context(city):
        assert not SetupChecklist.objects.exists()


def test_a_department_provisioned_with_a_password_has_no_checklist(provision_new):
    from tenants.services import department_provision
    from tests.tenants.springfield import SPRINGFIELD

    result = department_provision(**SPRINGFIELD)
    assert not result.administrator_invited
    with schema_context("springfield"):
        assert not SetupChecklist.objects.exists()


def test_provisioning_again_keeps_the_checklist(springfield):
    from tenants.services import department_provision
    from tests.onboarding_checklist.conftest import SPRINGFIELD_INVITED

    springfield.client.post(SETUP, {"change": "import_not_needed"})
    department_provision(**SPRINGFIELD_INVITED)
    with schema_context("springfield"):
        assert SetupChecklist.objects.get().import_waived_at is not None
