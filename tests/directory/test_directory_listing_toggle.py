"""A department chooses whether the directory lists it: its administrators on the portal settings
page (in English or Spanish), vendor staff on the console's edit page (recorded in the platform
audit log). Nobody else can, and a form sent without the choice changes nothing."""

from __future__ import annotations

import re

import pytest

from console.models import PlatformAuditEntry
from tenants.models import Department
from tests.lifecycle.conftest import department_id
from tests.lifecycle.test_domains_and_edit import edit_form
from tests.lifecycle.test_portal_settings_and_terms import form_data

pytestmark = pytest.mark.django_db
SETTINGS = "/department/settings/portal/"
DIRECTORY = "/cities/"
CONCORD = "Concord Community Camera Registry"


def listed(schema_name: str = "concord") -> bool:
    return Department.objects.get(schema_name=schema_name).listed


def test_the_settings_page_shows_the_choice(admin):
    page = admin.client.get(SETTINGS).content.decode()
    assert "Directory of participating cities" in page
    assert re.search(r'<input type="radio" name="listed" value="True"[^>]*checked', page)


def test_an_administrator_takes_the_program_out_of_the_directory_and_back(admin, platform_client):
    response = admin.client.post(SETTINGS, form_data(listed="False"), follow=True)
    assert response.status_code == 200
    assert "Your program is no longer listed in the directory" in response.content.decode()
    assert not listed()
    assert CONCORD not in platform_client.get(DIRECTORY).content.decode()
    assert CONCORD not in platform_client.get(DIRECTORY, {"q": "28025"}).content.decode()
    page = admin.client.get(SETTINGS).content.decode()
    assert re.search(r'<input type="radio" name="listed" value="False"[^>]*checked', page)

    response = admin.client.post(SETTINGS, form_data(listed="True"), follow=True)
    assert "Your program is now listed in the directory" in response.content.decode()
    assert listed()
    assert CONCORD in platform_client.get(DIRECTORY).content.decode()


def test_the_choice_is_offered_in_spanish(admin):
    admin.client.cookies["django_language"] = "es"
    page = admin.client.get(SETTINGS, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Directorio de ciudades participantes" in page
    assert "Incluir nuestro programa en el directorio" in page
    response = admin.client.post(SETTINGS, form_data(listed="False"), follow=True)
    assert "Su programa ya no figura en el directorio" in response.content.decode()


def test_a_form_without_the_choice_changes_nothing(admin):
    response = admin.client.post(SETTINGS, form_data(), follow=True)
    assert "Nothing had changed; nothing was saved." in response.content.decode()
    assert listed()


def test_an_unknown_choice_is_refused_and_nothing_is_saved(admin):
    response = admin.client.post(SETTINGS, form_data(listed="maybe", display_name="Changed"))
    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    assert listed()
    assert Department.objects.get(schema_name="concord").branding.display_name == CONCORD


def test_only_administrators_choose(investigator, make_resident):
    assert investigator.client.post(SETTINGS, form_data(listed="False")).status_code == 403
    alice = make_resident("concord", email="alice-directory@example.org")
    assert alice.client.post(SETTINGS, form_data(listed="False")).status_code == 403
    assert listed()


def test_one_city_s_choice_leaves_the_others_listed(admin, platform_client):
    admin.client.post(SETTINGS, form_data(listed="False"))
    assert not listed("concord")
    assert listed("carrollton") and listed("littlerock")
    html = platform_client.get(DIRECTORY).content.decode()
    assert "Eyes on the Rock" in html and "Carrollton Community Camera Partnership" in html


def test_vendor_staff_unlist_a_department_from_the_console_and_it_is_recorded(
    console, platform_client
):
    edit = f"/console/departments/{department_id('concord')}/edit/"
    page = console.get(edit).content.decode()
    assert "Directory of participating cities" in page
    response = console.post(edit, edit_form(console) | {"listed": "False"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not listed()
    assert CONCORD not in platform_client.get(DIRECTORY).content.decode()
    entry = PlatformAuditEntry.objects.get(action=PlatformAuditEntry.Action.DEPARTMENT_EDIT)
    assert entry.department_schema == "concord"
    assert entry.detail["changed"] == ["listed"]

    console.post(edit, edit_form(console) | {"listed": "True"})
    assert listed()
    assert CONCORD in platform_client.get(DIRECTORY).content.decode()


def test_a_console_edit_without_the_choice_leaves_the_listing(console):
    Department.objects.filter(schema_name="concord").update(listed=False)
    edit = f"/console/departments/{department_id('concord')}/edit/"
    data = edit_form(console)
    data.pop("listed", None)
    console.post(edit, data | {"display_name": "Concord Cameras"})
    concord = Department.objects.select_related("branding").get(schema_name="concord")
    assert concord.branding.display_name == "Concord Cameras"
    assert not concord.listed
