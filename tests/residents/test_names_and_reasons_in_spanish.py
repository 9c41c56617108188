"""A Spanish-speaking visitor reads the department's and the program's names in Spanish (where the
department gave them), and their access page explains each access in Spanish, never in the
department's English record."""

from __future__ import annotations

import pytest
from django.conf import settings
from django_tenants.utils import schema_context

from portal.department.models import Incident
from tenants.models import Branding, Department
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db


def in_spanish(client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"


def test_the_demo_city_has_its_names_in_spanish():
    concord = Department.objects.get(schema_name="concord")
    assert concord.name_in("es") == "Departamento de Policía de Concord"
    assert concord.name_in("en") == "Concord Police Department"
    assert concord.branding.display_name_in("es") == "Registro Comunitario de Cámaras de Concord"


def test_the_landing_page_names_the_department_in_the_visitors_language(concord_client):
    english = concord_client.get("/").content.decode()
    assert "Concord Community Camera Registry" in english
    assert "Concord Police Department" in english
    in_spanish(concord_client)
    spanish = concord_client.get("/").content.decode()
    assert "<title>" in spanish and "Registro Comunitario de Cámaras de Concord</title>" in spanish
    assert "Departamento de Policía de Concord" in spanish
    assert "Concord Police Department" not in spanish


def test_without_a_spanish_name_the_official_one_is_used(concord_client):
    Department.objects.filter(schema_name="concord").update(name_es="")
    Branding.objects.filter(department__schema_name="concord").update(display_name_es="")
    try:
        in_spanish(concord_client)
        page = concord_client.get("/").content.decode()
    finally:
        Department.objects.filter(schema_name="concord").update(
            name_es="Departamento de Policía de Concord"
        )
        Branding.objects.filter(department__schema_name="concord").update(
            display_name_es="Registro Comunitario de Cámaras de Concord"
        )
    assert "Concord Police Department" in page
    assert "Concord Community Camera Registry" in page


def test_the_administrator_sets_the_spanish_names_on_the_portal_page(admin):
    from portal.department.forms import PortalSettingsForm

    page = admin.client.get("/department/settings/portal/").content.decode()
    assert "Department name in Spanish" in page and "Program name in Spanish" in page
    assert 'value="Departamento de Policía de Concord"' in page
    data = {
        key: value
        for key, value in PortalSettingsForm.initial_for(
            Department.objects.get(schema_name="concord")
        ).items()
        if value is not None
    } | {"name_es": "Policía de Concord", "display_name_es": "Cámaras de Concord"}
    try:
        response = admin.client.post("/department/settings/portal/", data)
        assert response.status_code == 302, response.content.decode()[-2000:]
        concord = Department.objects.get(schema_name="concord")
        assert concord.name_es == "Policía de Concord"
        assert concord.branding.display_name_es == "Cámaras de Concord"
    finally:
        Department.objects.filter(schema_name="concord").update(
            name_es="Departamento de Policía de Concord"
        )
        Branding.objects.filter(department__schema_name="concord").update(
            display_name_es="Registro Comunitario de Cámaras de Concord"
        )


def test_the_access_page_explains_each_access_in_spanish(make_resident, site_data, make_staff):
    owner = make_resident("concord", language="es")
    owner.client.post("/register/", site_data())
    investigator = make_staff("concord", "investigator")
    investigator.client.post("/department/incidents/", incident_post_data())
    with schema_context("concord"):
        incident = Incident.objects.get()
        site_id = owner.participant.sites.get().pk
    investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site_id}/reveal/", {"note": ""}
    )
    in_spanish(owner.client)
    page = owner.client.get("/my/access/").content.decode()
    assert (
        "Un miembro del personal vio sus datos de contacto para comunicarse con usted sobre el "
        "caso." in page
    )
    assert "Contact details for case" not in page
    assert "Canvass of" not in page  # the canvass page's own record, in English, is not shown
