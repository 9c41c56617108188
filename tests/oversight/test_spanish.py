"""The oversight pages and their refusals in Spanish."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.oversight.models import Finding

pytestmark = pytest.mark.django_db


def test_the_trail_in_spanish(overseer, seeded):
    overseer.client.cookies["django_language"] = "es"
    page = overseer.client.get("/department/oversight/").content.decode()
    assert "Supervisión: el registro de auditoría" in page
    assert "nunca se muestran los nombres, contactos ni direcciones exactas" in page
    assert f"Revisar la entrada {seeded.entry_ids[0]}" in page
    assert "un residente" in page
    assert "del centro" in page
    assert "Hallazgos" in page


def test_refusals_in_spanish(overseer, admin, seeded):
    overseer.client.cookies["django_language"] = "es"
    admin.client.cookies["django_language"] = "es"
    entry = seeded.entry_ids[0]
    response = overseer.client.post(
        f"/department/oversight/entries/{entry}/findings/", {"text": "", "severity": "concern"}
    )
    assert "Escriba el hallazgo: qué se encontró sobre esta entrada." in response.content.decode()
    response = overseer.client.post("/department/oversight/entries/987654321/flag/", {})
    assert (
        "No hay ninguna entrada 987654321 en el registro de auditoría de este departamento."
        in response.content.decode()
    )
    overseer.client.post(
        f"/department/oversight/entries/{entry}/findings/",
        {"text": "Sin motivo.", "severity": "violation"},
    )
    with schema_context("concord"):
        finding = Finding.objects.get()
    response = overseer.client.post(
        f"/department/oversight/findings/{finding.pk}/resolve/", {"resolution": "Bien."}
    )
    assert response.status_code == 403
    assert (
        "Solo los administradores del departamento responden y resuelven los hallazgos."
        in response.content.decode()
    )
    page = admin.client.get("/department/oversight/findings/").content.decode()
    assert "Infracción de las normas" in page
    assert "Abierto: a la espera de la respuesta del departamento." in page
    response = admin.client.post(
        f"/department/oversight/findings/{finding.pk}/resolve/", {"resolution": ""}, follow=True
    )
    assert "Escriba la respuesta del departamento al hallazgo." in response.content.decode()
