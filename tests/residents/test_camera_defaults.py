"""A new camera starts as most cameras are (video kept 30 days, recording on motion), and a view
direction outside the compass is refused with a message saying what to type, in the resident's
language, with nothing written."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from portal.registry.forms import CameraForm
from portal.registry.models import Camera, Site

pytestmark = pytest.mark.django_db

ENGLISH = (
    "Enter the direction as a whole number of degrees from 0 to 359: "
    "0 is north, 90 east, 180 south and 270 west."
)
SPANISH = (
    "Escriba la orientación como un número entero de grados de 0 a 359: "
    "0 es el norte, 90 el este, 180 el sur y 270 el oeste."
)


def input_tag(page: str, name: str, value: str | None = None) -> str:
    """The <input> of one field (of one radio choice when `value` is given)."""
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag and (value is None or f'value="{value}"' in tag):
            return tag
    raise AssertionError(f"no input {name} {value or ''}")


def test_a_new_camera_offers_30_days_and_motion_recording(make_resident):
    alice = make_resident("concord")
    page = alice.client.get("/register/").content.decode()
    assert 'value="30"' in input_tag(page, "cameras-0-retention_days")
    assert "checked" in input_tag(page, "cameras-0-recording", "motion")
    assert "checked" not in input_tag(page, "cameras-0-recording", "continuous")
    # "Add another camera" clones the same defaults.
    template = page.split('<template id="camera-template">')[1]
    assert 'value="30"' in input_tag(template, "cameras-__prefix__-retention_days")
    assert "checked" in input_tag(template, "cameras-__prefix__-recording", "motion")


def test_the_defaults_are_those_of_the_camera_form_itself():
    form = CameraForm()
    assert form["retention_days"].value() == 30
    assert form["recording"].value() == Camera.Recording.MOTION
    assert form["direction"].value() is None  # a direction is the owner's to give


def test_a_camera_registered_with_the_defaults_keeps_them(make_resident, site_data):
    alice = make_resident("concord")
    data = site_data(**{"cameras-0-retention_days": "30", "cameras-0-recording": "motion"})
    assert alice.client.post("/register/", data).status_code == 302
    with schema_context("concord"):
        camera = Camera.objects.get()
    assert (camera.retention_days, camera.recording) == (30, "motion")


def test_an_existing_camera_shows_its_own_values_not_the_defaults(make_resident, site_data):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data(**{"cameras-0-recording": "continuous"}))
    with schema_context("concord"):
        site = Site.objects.get()
    page = alice.client.get(f"/my/sites/{site.pk}/").content.decode()
    assert 'value="14"' in input_tag(page, "cameras-0-retention_days")
    assert "checked" in input_tag(page, "cameras-0-recording", "continuous")
    # The spare camera form beside it starts from the defaults.
    assert 'value="30"' in input_tag(page, "cameras-1-retention_days")


@pytest.mark.parametrize("sends_defaults", [True, False])
def test_the_spare_camera_form_left_alone_adds_no_camera(make_resident, site_data, sends_defaults):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    with schema_context("concord"):
        site = Site.objects.prefetch_related("cameras").get()
        camera = site.cameras.get()
    data = {
        key: value
        for key, value in site_data().items()
        if not key.startswith("cameras-") and key != "accept_terms"
    } | {
        "cameras-TOTAL_FORMS": "2",
        "cameras-INITIAL_FORMS": "1",
        "cameras-MIN_NUM_FORMS": "0",
        "cameras-MAX_NUM_FORMS": "20",
        "cameras-0-id": str(camera.pk),
        "cameras-0-site": str(site.pk),
        "cameras-0-label": "Porch",
        "cameras-0-direction": "90",
        "cameras-0-sees": ["street"],
        "cameras-0-mount": "wall",
        "cameras-0-recording": "motion",
        "cameras-0-retention_days": "14",
    }
    if sends_defaults:  # as a browser sends the spare form: its defaults, nothing typed
        data |= {"cameras-1-retention_days": "30", "cameras-1-recording": "motion"}
    response = alice.client.post(f"/my/sites/{site.pk}/", data)
    assert response.status_code == 302, response.content.decode()
    with schema_context("concord"):
        assert list(Camera.objects.values_list("label", flat=True)) == ["Porch"]


def test_a_spare_camera_form_with_only_a_changed_default_is_a_camera_to_check():
    form = CameraForm(
        data={"cameras-1-retention_days": "7", "cameras-1-recording": "motion"},
        prefix="cameras-1",
        empty_permitted=True,
        use_required_attribute=False,
    )
    assert form.has_changed()
    assert not form.is_valid()
    assert "label" in form.errors


@pytest.mark.parametrize(("language", "message"), [("en", ENGLISH), ("es", SPANISH)])
@pytest.mark.parametrize("direction", ["360", "-1", "720", "north", "45.5"])
def test_a_direction_outside_the_compass_is_refused_in_the_residents_language(
    make_resident, site_data, language, message, direction
):
    alice = make_resident("concord")
    alice.client.post("/i18n/setlang/", {"language": language, "next": "/"})
    response = alice.client.post(
        "/register/", site_data(cameras=2, **{"cameras-1-direction": direction})
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert 'aria-invalid="true"' in input_tag(page, "cameras-1-direction")
    with schema_context("concord"):
        assert not Site.objects.exists()
        assert not Camera.objects.exists()


@pytest.mark.parametrize("direction", ["0", "359"])
def test_the_compass_ends_are_accepted(make_resident, site_data, direction):
    alice = make_resident("concord")
    response = alice.client.post("/register/", site_data(**{"cameras-0-direction": direction}))
    assert response.status_code == 302
    with schema_context("concord"):
        assert Camera.objects.get().direction == int(direction)


def test_the_dial_speaks_the_residents_language(make_resident):
    alice = make_resident("concord")
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = alice.client.get("/register/").content.decode()
    assert 'data-points="norte|noreste|este|sureste|sur|suroeste|oeste|noroeste"' in page
    assert 'data-text-other="{word}, {degrees} grados"' in page
    assert 'aria-label="Brújula para la orientación de la cámara"' in page
    # Each dial is described by its own hint, in the clone too (site_form.js numbers it).
    assert 'aria-describedby="cameras-0-dial-hint"' in page
    assert 'id="cameras-__prefix__-dial-hint"' in page
