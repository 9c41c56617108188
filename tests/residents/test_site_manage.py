"""A resident sees, edits, pauses and resumes their sites and cameras, and nobody else's."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.registry.models import Camera, Site
from tenants.models import Program

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_resident, site_data):
    resident = make_resident("concord")
    resident.client.post("/register/", site_data(cameras=2))
    return resident


def the_site() -> Site:
    with schema_context("concord"):
        return Site.objects.prefetch_related("cameras").get()


def edit_data(site: Site, **overrides):
    cameras = list(site.cameras.order_by("pk"))
    data = {
        "kind": site.kind,
        "address": site.address,
        "latitude": str(site.latitude),
        "longitude": str(site.longitude),
        "contact_name": site.contact_name,
        "contact_phone": site.contact_phone,
        "contact_email": site.contact_email,
        "contact_method": site.contact_method,
        "contact_hours": site.contact_hours,
        "cameras-TOTAL_FORMS": str(len(cameras) + 1),
        "cameras-INITIAL_FORMS": str(len(cameras)),
        "cameras-MIN_NUM_FORMS": "0",
        "cameras-MAX_NUM_FORMS": "20",
    }
    for index, camera in enumerate(cameras):
        data |= {
            f"cameras-{index}-id": str(camera.pk),
            f"cameras-{index}-site": str(site.pk),
            f"cameras-{index}-label": camera.label,
            f"cameras-{index}-direction": str(camera.direction),
            f"cameras-{index}-sees": camera.sees,
            f"cameras-{index}-mount": camera.mount,
            f"cameras-{index}-recording": camera.recording,
            f"cameras-{index}-retention_days": str(camera.retention_days),
        }
    return data | overrides


def test_the_management_page_lists_sites_and_cameras(alice):
    page = alice.client.get("/my/").content.decode()
    assert "77 Union St S, Concord, NC 28025" in page
    assert "Camera 1" in page and "Camera 2" in page
    assert "keeps recordings for 14 days" in page
    assert "sees the street and the sidewalk" in page
    assert "(704) 555-0142" in page


def test_a_resident_edits_a_site_and_its_cameras(alice):
    site = the_site()
    second = site.cameras.order_by("pk")[1]
    data = edit_data(
        site,
        address="79 Union St S, Concord, NC 28025",
        **{
            "cameras-0-label": "Front porch",
            "cameras-1-DELETE": "on",
            "cameras-2-label": "Back yard",
            "cameras-2-direction": "180",
            "cameras-2-sees": ["alley"],
            "cameras-2-mount": "pole",
            "cameras-2-recording": "continuous",
            "cameras-2-retention_days": "30",
        },
    )
    response = alice.client.post(f"/my/sites/{site.pk}/", data)
    assert response.status_code == 302, response.content.decode()
    site = the_site()
    assert site.address == "79 Union St S, Concord, NC 28025"
    with schema_context("concord"):
        labels = list(site.cameras.order_by("pk").values_list("label", flat=True))
        assert labels == ["Front porch", "Back yard"]
        assert not Camera.objects.filter(pk=second.pk).exists()


def test_an_edit_with_an_error_changes_nothing(alice):
    site = the_site()
    data = edit_data(site, address="New address", **{"cameras-0-direction": "720"})
    response = alice.client.post(f"/my/sites/{site.pk}/", data)
    assert response.status_code == 200
    assert (
        "Enter the direction as a whole number of degrees from 0 to 359"
        in response.content.decode()
    )
    assert the_site().address == "77 Union St S, Concord, NC 28025"


def test_deleting_every_camera_is_refused(alice):
    site = the_site()
    data = edit_data(site, **{"cameras-0-DELETE": "on", "cameras-1-DELETE": "on"})
    page = alice.client.post(f"/my/sites/{site.pk}/", data).content.decode()
    assert "A site needs at least one camera." in page
    with schema_context("concord"):
        assert Camera.objects.count() == 2


def test_new_terms_must_be_accepted_when_editing(alice):
    Program.objects.filter(department__schema_name="concord").update(
        terms_version=2, terms_text="New terms"
    )
    site = the_site()
    page = alice.client.post(f"/my/sites/{site.pk}/", edit_data(site)).content.decode()
    assert "You must agree to the terms to register." in page
    alice.client.post(f"/my/sites/{site.pk}/", edit_data(site, accept_terms="on"))
    assert the_site().terms_version == 2


def test_a_resident_pauses_and_resumes_a_site(alice):
    site = the_site()
    with schema_context("concord"):
        assert Site.objects.searchable().filter(pk=site.pk).exists()
    alice.client.post(f"/my/sites/{site.pk}/pause/")
    with schema_context("concord"):
        assert Site.objects.get().paused
        assert not Site.objects.searchable().exists()
    assert "Paused" in alice.client.get("/my/").content.decode()
    alice.client.post(f"/my/sites/{site.pk}/resume/")
    with schema_context("concord"):
        assert not Site.objects.get().paused
        assert Site.objects.searchable().exists()


def test_a_resident_pauses_and_resumes_a_camera(alice):
    camera = the_site().cameras.order_by("pk").first()
    alice.client.post(f"/my/cameras/{camera.pk}/pause/")
    with schema_context("concord"):
        assert Camera.objects.get(pk=camera.pk).paused
    alice.client.post(f"/my/cameras/{camera.pk}/resume/")
    with schema_context("concord"):
        assert not Camera.objects.get(pk=camera.pk).paused


def test_pausing_needs_a_post(alice):
    site = the_site()
    assert alice.client.get(f"/my/sites/{site.pk}/pause/").status_code == 405


def test_another_resident_cannot_see_or_touch_the_site(alice, make_resident):
    site = the_site()
    camera = site.cameras.first()
    mallory = make_resident("concord", email="mallory@example.org")
    assert mallory.client.get(f"/my/sites/{site.pk}/").status_code == 404
    assert mallory.client.post(f"/my/sites/{site.pk}/pause/").status_code == 404
    assert mallory.client.post(f"/my/cameras/{camera.pk}/pause/").status_code == 404
    assert "77 Union St S" not in mallory.client.get("/my/").content.decode()
    assert not the_site().paused


def test_a_resident_adds_a_second_site(alice, site_data):
    alice.client.post("/register/", site_data(address="12 Church St N, Concord, NC"))
    page = alice.client.get("/my/").content.decode()
    assert "77 Union St S" in page and "12 Church St N" in page
