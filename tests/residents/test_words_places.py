"""Places, directions and times written without ambiguity in both languages: a coordinate pair
with decimal points (never "35,40800, -80,58100"), a camera's view direction that is not the
street address's word ("Orientación", not "Dirección"), and one full stop after "p.m."."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.template import Context, Template

from tests.department.test_notify import incident, link, neighbourhood, notify  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "es"])
def test_my_cameras_writes_the_coordinates_with_decimal_points(
    make_resident, site_data, language: str
):
    resident = make_resident("concord")
    resident.client.post("/i18n/setlang/", {"language": language, "next": "/"})
    resident.client.post("/register/", site_data())
    page = resident.client.get("/my/").content.decode()
    assert "35.40800, -80.58100" in page
    assert "35,408" not in page


def test_the_coordinates_filter_ignores_the_locale():
    template = Template(
        "{% load i18n words %}{% language 'es' %}{{ lat|coordinates:lon }}{% endlanguage %}"
    )
    assert template.render(Context({"lat": 35.2, "lon": -92.123456})) == "35.20000, -92.12346"
    assert template.render(Context({"lat": None, "lon": 1.0})) == ""


def test_the_spanish_form_says_orientacion_for_the_view_direction(make_resident):
    resident = make_resident("concord")
    resident.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = resident.client.get("/register/").content.decode()
    assert "Orientación de la cámara (grados)" in page
    assert "Dirección de la vista" not in page
    assert "Dirección" in page  # the street address keeps its word


def test_a_time_that_ends_a_sentence_has_one_full_stop(
    neighbourhood,  # noqa: F811
    incident,  # noqa: F811
    concord_client,
    django_capture_on_commit_callbacks,
):
    investigator, case = incident
    notify(investigator, case, django_capture_on_commit_callbacks)
    message = next(m for m in mail.outbox if m.to == ["alice@example.org"])
    body = " ".join(message.body.split())
    assert re.search(r"to Nov\. 2\d, 2026, \d+ [ap]\.m\. Tell us", body)
    assert not re.search(r"[ap]\.m\.\.", body)
    page = concord_client.get(link(message)).content.decode()
    assert re.search(r"to Nov\. 2\d, 2026, \d+ [ap]\.m\.</p>", page)
    assert not re.search(r"[ap]\.m\.\.", page)


def test_the_full_stop_filter_keeps_values_without_one():
    template = Template("{% load words %}{{ value|before_full_stop }}.")
    assert template.render(Context({"value": "9 p.m."})) == "9 p.m."
    assert template.render(Context({"value": "21:00"})) == "21:00."
    assert template.render(Context({"value": "Wait..."})) == "Wait...."
