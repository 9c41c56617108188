""" "My cameras" describes each site in plain sentences (which way each camera looks in compass
words, what it sees, how long it keeps video, when it records), never in codes ("faces 120°",
raw coordinates), with one primary action per site card, in English and in Spanish."""

from __future__ import annotations

import re

import pytest
from django_tenants.utils import schema_context

from portal.registry.models import Camera, Site

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_resident, site_data):
    """Two cameras at 77 Union St S: facing north (0) and east (90), street and sidewalk,
    14 days, on motion, with night vision."""
    resident = make_resident("concord")
    response = resident.client.post("/register/", site_data(cameras=2))
    assert response.status_code == 302
    return resident


def cards(page: str) -> list[str]:
    """Each site card's HTML, up to the end of its "More" menu (its last part)."""
    parts = page.split('<section class="site-card"')[1:]
    return [part[: part.index("</details>") + len("</details>")] for part in parts]


def text(html: str) -> str:
    """What a reader sees: tags dropped, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_each_camera_is_one_plain_sentence(alice):
    page = text(alice.client.get("/my/").content.decode())
    assert "Two cameras." in page
    assert (
        "“Camera 1” faces north and sees the street and the sidewalk; it keeps recordings for "
        "14 days and records when it sees motion. It sees at night." in page
    )
    assert "“Camera 2” faces east and sees the street and the sidewalk;" in page
    assert "°" not in page
    assert "faces 90" not in page


def test_the_site_is_described_in_sentences_too(alice):
    page = text(alice.client.get("/my/").content.decode())
    assert "Registered: the department knows where your cameras are" in page
    assert (
        "The department calls Alice Moreno at (704) 555-0142. Best time: Weekdays after 5 pm."
        in page
    )


def test_coordinates_appear_only_behind_more(alice):
    html = alice.client.get("/my/").content.decode()
    (card,) = cards(html)
    visible, more = (text(part) for part in card.split('<details class="more">'))
    assert "35.40" not in visible and "-80.58" not in visible
    assert "35.40800, -80.58100" in more


def test_each_card_has_one_primary_action_and_the_rest_behind_more(alice, site_data):
    alice.client.post("/register/", site_data(address="12 Church St N, Concord, NC"))
    html = alice.client.get("/my/").content.decode()
    found = cards(html)
    assert len(found) == 2
    for card in found:
        assert card.count("button--primary") == 1
        primary = re.search(r'<a class="button button--primary"[^>]*>([^<]*)</a>', card)
        assert primary and primary.group(1).startswith("Edit ")
        more = card.split('<details class="more">')[1]
        assert "Pause this site" in more and "Pause Camera 1" in more


def test_counts_days_and_recording_modes_read_right(alice):
    with schema_context("concord"):
        first, second = Camera.objects.order_by("pk")
        Camera.objects.filter(pk=first.pk).update(
            retention_days=1, recording="continuous", night_vision=False, direction=225
        )
        Camera.objects.filter(pk=second.pk).update(
            sees=["street", "driveway", "alley"], direction=350, paused=True
        )
    page = text(alice.client.get("/my/").content.decode())
    assert (
        "“Camera 1” faces southwest and sees the street and the sidewalk; it keeps recordings "
        "for 1 day and records all the time." in page
    )
    assert "“Camera 2” faces north and sees the street, the driveway, and the alley;" in page
    assert "It is paused: searches do not show it." in page


def test_one_camera_is_said_in_words(make_resident, site_data):
    resident = make_resident("concord")
    resident.client.post("/register/", site_data())
    page = text(resident.client.get("/my/").content.decode())
    assert "One camera." in page


def test_many_cameras_are_counted_in_digits(make_resident, site_data):
    resident = make_resident("concord")
    directions = {f"cameras-{index}-direction": str(30 * index) for index in range(12)}
    assert (
        resident.client.post("/register/", site_data(cameras=12, **directions)).status_code == 302
    )
    page = text(resident.client.get("/my/").content.decode())
    assert "12 cameras." in page


def test_the_map_gets_the_active_cameras_directions(alice):
    with schema_context("concord"):
        Camera.objects.filter(direction=90).update(paused=True)
    html = alice.client.get("/my/").content.decode()
    assert 'data-directions="0,"' in html
    assert 'data-lat="35.408000" data-lng="-80.581000"' in html


def test_the_sentences_are_in_spanish(alice):
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = text(alice.client.get("/my/").content.decode())
    assert "Dos cámaras." in page
    assert (
        "«Camera 1» mira al norte y ve la calle y la acera; guarda las grabaciones durante "
        "14 días y graba cuando detecta movimiento. Ve de noche." in page
    )
    assert "«Camera 2» mira al este" in page
    assert "El departamento llama a Alice Moreno al (704) 555-0142." in page
    assert "35,408" not in page


def test_a_paused_site_says_so(alice):
    with schema_context("concord"):
        Site.objects.update(paused=True)
    page = text(alice.client.get("/my/").content.decode())
    assert "Paused: searches do not show this site." in page
