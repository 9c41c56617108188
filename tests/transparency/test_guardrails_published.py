"""The guardrails a department set on its own access are published on its transparency page as
they stand, with their changes, naming no one; a change shows at once (the cached page depends
on them)."""

from __future__ import annotations

import pytest

from tests.conftest import feet

pytestmark = pytest.mark.django_db

URL = "/department/guardrails/"


def test_the_rules_in_force_and_their_changes_are_published(admin, concord_client):
    before = concord_client.get("/transparency/").content.decode()
    assert "Guardrails the department set on its own access" in before
    assert "Largest canvass radius, any case" in before
    assert "No change in the last 12 months." in before

    form = {"live_reasons_allowed": ["active_threat"], "radius_burglary": feet(800)}
    assert admin.client.post(URL, form).status_code == 302

    page = concord_client.get("/transparency/").content.decode()
    assert "Largest canvass radius, Burglary" in page and "0.5 mi" in page
    assert "Reasons that allow a live view" in page and "Active threat" in page
    assert "radius_max_m.burglary" in page  # the change, with what moved
    assert admin.email not in page


def test_the_rules_are_published_in_spanish(concord_client):
    page = concord_client.get("/transparency/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Límites que el departamento se impuso a su propio acceso" in page
    assert "Ningún cambio en los últimos 12 meses." in page
