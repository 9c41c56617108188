"""A resident who places their site outside the department's area is told how far from the city
center to place it, in the department's units (miles for Concord), in their language."""

from __future__ import annotations

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

FAR = {"latitude": "34.7465", "longitude": "-92.2896"}  # Little Rock, far from Concord


def test_the_service_area_is_given_in_miles(make_resident, site_data):
    owner = make_resident("concord")
    page = owner.client.post("/register/", site_data(**FAR)).content.decode()
    assert "place the pin within 9.9 mi of the city center." in page
    owner.client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    page = owner.client.post("/register/", site_data(**FAR)).content.decode()
    assert "coloque el marcador a menos de 9,9 mi del centro de la ciudad." in page
