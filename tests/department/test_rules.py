"""One rule, one place: every page, export, count and notice a department's staff get shows the
same sites (the searchable ones) and the same cameras (the active ones); the incident map
draws the radius the canvass searched; emails are rendered in one place."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from secrets import token_urlsafe

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from portal.department.models import Incident, Notification
from portal.department.tasks import notify_area
from portal.registry.models import Camera, Participant, Site
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
INCIDENT = incident_post_data(case_number="CPD-9", address="Union St S")


@pytest.fixture
def registry(make_resident, site_data):
    """Alice: a searchable site whose second camera (facing 90°, onto the alley) she paused from
    /my/. Paul: a
    paused site. Lena: a site whose registration lapsed. All within 100 m of the incident."""
    alice = make_resident("concord")
    alice.client.post(
        "/register/",
        site_data(cameras=2, **{"cameras-1-label": "Back yard", "cameras-1-sees": ["alley"]}),
    )
    with schema_context("concord"):
        back_yard = Camera.objects.get(label="Back yard")
    assert alice.client.post(f"/my/cameras/{back_yard.pk}/pause/").status_code == 302
    paul = make_resident("concord", email="paul@example.org")
    paul.client.post("/register/", site_data(address="2 Paused Pl", latitude="35.4081"))
    with schema_context("concord"):
        paused = Site.objects.get(address="2 Paused Pl")
    assert paul.client.post(f"/my/sites/{paused.pk}/pause/").status_code == 302
    lena = make_resident("concord", email="lena@example.org")
    lena.client.post("/register/", site_data(address="3 Lapsed Ln", latitude="35.4079"))
    with schema_context("concord"):
        Participant.objects.filter(user__email="lena@example.org").update(
            status=Participant.Status.LAPSED
        )
    return alice


def open_incident(staff, **overrides) -> Incident:
    response = staff.client.post("/department/incidents/", INCIDENT | overrides)
    incident_id = int(re.search(r"/incidents/(\d+)/", response["Location"]).group(1))
    with schema_context("concord"):
        return Incident.objects.get(pk=incident_id)


def csv_rows(response) -> list[dict[str, str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_every_staff_surface_shows_the_searchable_sites_and_their_active_cameras(
    registry, make_staff, django_capture_on_commit_callbacks
):
    admin = make_staff("concord", "administrator")
    incident = open_incident(admin)
    shown = "77 Union St S, Concord, NC 28025"
    hidden = ("2 Paused Pl", "3 Lapsed Ln")

    dashboard = admin.client.get("/department/").content.decode()
    assert re.search(r"Searchable now</dt><dd>1<", dashboard)
    assert re.search(r"Lapsed or removed</dt><dd>1<", dashboard)
    assert re.search(r"Paused by owners</dt><dd>1<", dashboard)

    page = admin.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert "1 site nearby" in page and shown in page
    assert not any(address in page for address in hidden)
    # The canvass lists Alice's camera facing 0°, not the one she paused (facing 90°).
    assert "0° Street, Sidewalk (14 d)" in page
    assert "90°" not in page

    canvass = csv_rows(admin.client.get(f"/department/incidents/{incident.pk}/canvass.csv"))
    assert [(row["address"], row["cameras"]) for row in canvass] == [(shown, "1")]

    registry_csv = csv_rows(admin.client.get("/department/registry.csv"))
    assert [(row["address"], row["camera_label"]) for row in registry_csv] == [(shown, "Camera 1")]
    geojson = json.loads(admin.client.get("/department/registry.geojson").content)
    assert [f["properties"]["camera:direction"] for f in geojson["features"]] == ["0"]

    close = admin.client.get(
        "/department/map/data.json", {"bbox": "35.3,-80.7,35.5,-80.5", "zoom": "17"}
    ).json()
    assert [site["directions"] for site in close["sites"]] == [[0]]
    seeing = admin.client.get(
        "/department/map/data.json",
        {"bbox": "35.3,-80.7,35.5,-80.5", "zoom": "17", "sees": "alley"},
    ).json()
    assert seeing["sites"] == []

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin.client.post(
            f"/department/incidents/{incident.pk}/notify/", {"message": "", "key": token_urlsafe()}
        )
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]
    with schema_context("concord"):
        lapsed = Site.objects.get(address="3 Lapsed Ln")
        paused = Site.objects.get(address="2 Paused Pl")
    for site in (lapsed, paused):
        request = f"/department/incidents/{incident.pk}/sites/{site.pk}/request/"
        assert admin.client.post(request, {"message": ""}).status_code == 404

    # The owner still sees, and can resume, the camera she paused.
    manage = registry.client.get("/my/").content.decode()
    assert "Resume Back yard" in manage


def test_a_camera_paused_on_every_site_leaves_the_site_without_cameras_for_staff(
    make_resident, make_staff, site_data
):
    owner = make_resident("concord")
    owner.client.post("/register/", site_data())
    with schema_context("concord"):
        camera = Camera.objects.get()
    owner.client.post(f"/my/cameras/{camera.pk}/pause/")
    admin = make_staff("concord", "administrator")
    incident = open_incident(admin)
    canvass = csv_rows(admin.client.get(f"/department/incidents/{incident.pk}/canvass.csv"))
    assert [(row["cameras"], row["footage_likely"]) for row in canvass] == [("0", "no")]
    assert csv_rows(admin.client.get("/department/registry.csv")) == []


@pytest.mark.parametrize(
    ("kind", "searched", "text"),
    [
        # Shown in the department's units (Concord: feet and miles).
        ("crime", 500, "searched within 0.3 mi"),
        (
            "missing_person",
            1000,
            "searched within 0.6 mi (missing person: twice the 0.3 mi typed",
        ),
    ],
)
def test_the_incident_map_draws_and_names_the_radius_searched(
    make_resident,
    make_staff,
    site_data,
    django_capture_on_commit_callbacks,
    kind,
    searched,
    text,
):
    # About 700 m north of the incident: outside 500 m, inside 1000 m.
    owner = make_resident("concord")
    owner.client.post("/register/", site_data(latitude="35.4143"))
    investigator = make_staff("concord", "investigator")
    incident = open_incident(investigator, kind=kind)
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert f'data-search-radius="{searched}"' in page
    assert text in page
    within = text.split("searched within ")[1].split(" (")[0]
    assert f"Prepare a “check your camera” notice to the owners within {within}" in page
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{incident.pk}/notify/", {"message": "", "key": token_urlsafe()}
        )
    with schema_context("concord"):
        assert Notification.objects.get().radius_m == searched
    # The notice reaches exactly the sites the canvass lists.
    nearby = "1 site nearby" in page
    assert [m.to for m in mail.outbox] == ([["alice@example.org"]] if nearby else [])
    assert nearby == (kind == "missing_person")


def test_the_area_notice_and_the_footage_request_are_two_kinds_with_their_own_words(
    make_resident, make_staff, site_data, concord_client, django_capture_on_commit_callbacks
):
    bob = make_resident("concord", email="bob@example.org", language="es")
    bob.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    bob.client.post("/register/", site_data(address="80 Union St S"))
    investigator = make_staff("concord", "investigator")
    incident = open_incident(investigator)
    with schema_context("concord"):
        site = Site.objects.get()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        # The area notice first: an owner already asked about the case is not notified again.
        investigator.client.post(
            f"/department/incidents/{incident.pk}/notify/", {"message": "", "key": token_urlsafe()}
        )
        investigator.client.post(
            f"/department/incidents/{incident.pk}/sites/{site.pk}/request/", {"message": ""}
        )
    with schema_context("concord"):
        kinds = dict(Notification.objects.values_list("kind", "radius_m"))
    assert kinds == {"footage_request": None, "area": 500}
    notice, request = mail.outbox
    assert request.subject == "Departamento de Policía de Concord: solicitud de video, caso CPD-9"
    assert "para el caso CPD-9. Si lo hizo, suba una copia" in request.body
    assert "Esta solicitud se refiere a su sitio en 80 Union St S." in request.body
    assert notice.subject == "Departamento de Policía de Concord: revise su cámara"
    assert notice.body.startswith("El departamento de policía pide a los residentes")

    def answer_page(message, language):
        path = re.search(r"http://concord\.localhost:8000(/answer/\S+/)", message.body).group(1)
        return concord_client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    english = answer_page(request, "en")
    assert "<h1>A request for footage</h1>" in english
    assert "for case CPD-9. If it did, please upload a copy." in english
    assert "check their security cameras" not in english
    spanish = answer_page(request, "es")
    assert "<h1>Una solicitud de video</h1>" in spanish
    area = answer_page(notice, "en")
    assert "<h1>Check your camera</h1>" in area
    assert "check their security cameras for anything unusual" in area
    assert "CPD-9" not in area
    # The incident page sums up the area notices; the footage request is not one of them.
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert page.count(": sent to 1 owner;") == 1


# The helper itself, and allauth's account emails (which allauth renders, through the adapter).
EMAIL_SENDERS = {ROOT / "portal" / "registry" / "emails.py", ROOT / "tenants" / "adapters.py"}
SENDING = re.compile(r"\b(send_mail|send_mass_mail|EmailMessage|EmailMultiAlternatives)\(")
RENDERING_EMAIL = re.compile(r"render_to_string\([^)]*email/")


def test_every_email_is_rendered_and_sent_by_the_one_helper():
    elsewhere = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("portal", "tenants", "platform", "billing")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path not in EMAIL_SENDERS and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if SENDING.search(line) or RENDERING_EMAIL.search(line)
    ]
    assert elsewhere == []


def test_the_invitation_is_rendered_with_the_department_context(
    make_staff, django_capture_on_commit_callbacks
):
    admin = make_staff("concord", "administrator")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        admin.client.post(
            "/department/staff/", {"email": "new@concord.example.org", "role": "analyst"}
        )
    (invitation,) = mail.outbox
    assert invitation.to == ["new@concord.example.org"]
    assert invitation.subject == (
        "You are invited to the Concord Police Department's camera registry console"
    )
    assert "http://concord.localhost:8000/accounts/password/reset/key/" in invitation.body


def test_a_footage_request_is_sent_only_while_its_site_is_searchable(
    make_resident, make_staff, site_data
):
    owner = make_resident("concord")
    owner.client.post("/register/", site_data())
    investigator = make_staff("concord", "investigator")
    incident = open_incident(investigator)
    with schema_context("concord"):
        site = Site.objects.get()
    # Queued, then the owner pauses the site before the job runs.
    investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/request/", {"message": ""}
    )
    owner.client.post(f"/my/sites/{site.pk}/pause/")
    mail.outbox.clear()
    with schema_context("concord"):
        assert notify_area(Notification.objects.get().pk) == 0
    assert mail.outbox == []
