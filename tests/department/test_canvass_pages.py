"""A canvass of many sites: the page lists the nearest hundred with the rest a click away (and
every site in the export), carries one CSRF token however many rows it lists, feeds the map
compact GeoJSON, and the department's guardrail caps how far a canvass reaches."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import CanvassEntry, Incident
from portal.registry.models import Camera, Participant, Site
from tenants.models import Program
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db

CENTRE = (35.4080, -80.5810)  # the incident of incident_post_data()
SITES = 130


@pytest.fixture
def crowded(make_staff):
    """130 searchable sites within 450 m of the incident, each with one camera, the k-th site
    about 3k metres north of it; and the incident (500 m)."""
    staff = make_staff("concord", "investigator")
    with schema_context("concord"):
        user = get_user_model().objects.create_user(
            username="many@example.org", email="many@example.org"
        )
        owner = Participant.objects.create(user=user)
        sites = Site.objects.bulk_create(
            Site(
                participant=owner,
                kind="business",
                address=f"{k} Crowded St",
                latitude=CENTRE[0] + 3 * k / 111_195,
                longitude=CENTRE[1],
                contact_name="Owner Many",
                contact_method="phone",
                terms_version=1,
                terms_accepted_at=timezone.now(),
            )
            for k in range(1, SITES + 1)
        )
        Camera.objects.bulk_create(
            Camera(
                site=site,
                label="door",
                direction=90,
                sees=["street", "sidewalk"],
                mount="wall",
                recording="motion",
                retention_days=30,
            )
            for site in sites
        )
    staff.client.post("/department/incidents/", incident_post_data())
    with schema_context("concord"):
        incident = Incident.objects.get()
    return staff, incident, sites


def listed(page: str) -> list[str]:
    return re.findall(r"(\d+) Crowded St", page)


def test_the_page_lists_the_nearest_hundred_and_counts_them_all(crowded):
    staff, incident, _sites = crowded
    page = staff.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert f"{SITES} sites nearby" in page
    assert listed(page) == [str(k) for k in range(1, 101)]
    assert "Show the next 30 of 130 sites" in page
    assert "90° Street, Sidewalk (30 d)" in page


def test_the_more_link_brings_the_rest_with_their_map_points(crowded):
    staff, incident, _sites = crowded
    response = staff.client.get(f"/department/incidents/{incident.pk}/canvass/rows.json?after=100")
    assert response.status_code == 200
    payload = response.json()
    assert listed(payload["rows"]) == [str(k) for k in range(101, 131)]
    assert payload["total"] == SITES and payload["more"] is None
    numbers = [feature["properties"]["n"] for feature in payload["sites"]["features"]]
    assert numbers == list(range(101, 131))
    # The rows use the page's one form: no token of their own.
    assert "csrfmiddlewaretoken" not in payload["rows"]
    assert 'form="canvass-actions"' in payload["rows"]


def test_without_script_the_more_link_reloads_the_page_with_more_rows(crowded):
    staff, incident, _sites = crowded
    page = staff.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    more = re.search(r'<a href="([^"]+)" data-canvass-rows=', page).group(1)
    assert more == f"/department/incidents/{incident.pk}/?shown=200#canvass"
    page = staff.client.get(more.split("#")[0]).content.decode()
    assert listed(page) == [str(k) for k in range(1, SITES + 1)]
    assert "data-canvass-rows" not in page


def test_the_export_holds_every_site_of_the_canvass(crowded):
    staff, incident, _sites = crowded
    response = staff.client.get(f"/department/incidents/{incident.pk}/canvass.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["address"] for row in rows] == [f"{k} Crowded St" for k in range(1, SITES + 1)]
    assert {row["cameras"] for row in rows} == {"1"}
    assert [int(row["number"]) for row in rows] == list(range(1, SITES + 1))


def test_one_csrf_token_whatever_the_number_of_rows(crowded):
    staff, incident, _sites = crowded
    page = staff.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    # Signing out, notifying the area, and the canvass's one shared form.
    assert page.count("csrfmiddlewaretoken") == 3
    assert page.count('form="canvass-actions"') >= 100 * 6


def test_a_row_of_the_shared_form_saves_its_own_state_only(crowded):
    staff, incident, sites = crowded
    first, second = sites[0], sites[1]
    # The shared form sends every row's fields; the button names the row (formaction).
    response = staff.client.post(
        f"/department/incidents/{incident.pk}/sites/{second.pk}/state/",
        {
            f"site{first.pk}-state": "declined",
            f"site{first.pk}-notes": "not this one",
            f"site{second.pk}-state": "has_footage",
            f"site{second.pk}-notes": "Clip promised",
            f"site{first.pk}-note": "",
        },
    )
    assert response.status_code == 302
    with schema_context("concord"):
        (entry,) = CanvassEntry.objects.all()
    assert (entry.site_id, entry.state, entry.notes) == (second.pk, "has_footage", "Clip promised")
    page = staff.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert 'value="Clip promised"' in page


def test_a_row_of_the_shared_form_reveals_with_its_own_note(crowded):
    staff, incident, sites = crowded
    site = sites[4]
    response = staff.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/reveal/",
        {f"site{sites[0].pk}-note": "wrong row", f"site{site.pk}-note": "Camera over the door"},
    )
    assert response.status_code == 200
    assert "Owner Many" in response.content.decode()
    with schema_context("concord"):
        from portal.registry.models import AuditEntry

        entry = AuditEntry.objects.get(action="reveal")
    assert (entry.site_id, entry.note) == (site.pk, "Camera over the door")


def test_the_map_gets_compact_geojson_of_the_listed_sites(crowded):
    staff, incident, sites = crowded
    page = staff.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    data = re.search(r'<script id="incident-sites" type="application/json">(.*?)</script>', page)
    collection = json.loads(data.group(1))
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert [feature["properties"] for feature in features] == [{"n": n} for n in range(1, 101)]
    longitude, latitude = features[0]["geometry"]["coordinates"]
    assert math.isclose(latitude, sites[0].latitude, abs_tol=1e-6)
    assert math.isclose(longitude, sites[0].longitude, abs_tol=1e-6)


def test_the_maps_json_is_escaped_for_a_script_element_as_json_script_escapes_it():
    """The map's points are written by orjson (script_json), escaped as Django's json_script
    escapes JSON in a <script> element: no text in it can end the element."""
    from django.utils.html import json_script

    from portal.department.incident_views import script_json

    value = {"address": "</script><script>alert('&')</script>", "n": [1, 2.5, None], "é": True}
    written = str(script_json(value))
    assert "<" not in written and ">" not in written and "&" not in written
    assert json.loads(written) == value
    assert "\\u003C/script\\u003E" in written and "\\u003C/script\\u003E" in json_script(value, "x")


@pytest.fixture
def capped():
    """Concord's guardrail set to 5 km for the test."""
    with schema_context("public"):
        program = Program.objects.get(department__schema_name="concord")
        before = program.search_radius_max_m
        program.search_radius_max_m = 5_000
        program.save(update_fields=["search_radius_max_m"])
    yield
    with schema_context("public"):
        Program.objects.filter(department__schema_name="concord").update(search_radius_max_m=before)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        # In feet, Concord's units: 5000 m is 16,404 ft; 16,406 ft is 5001 m.
        ({"radius_m": "50000"}, "This department searches at most 16404 ft from an incident"),
        ({"radius_m": "16406"}, "This department searches at most 16404 ft from an incident"),
        (
            {"radius_m": "8300", "kind": "missing_person"},
            "A missing person is searched within 2 times the radius typed, and this department "
            "searches at most 16404 ft: type 8202 ft or less.",
        ),
    ],
)
def test_a_radius_beyond_the_departments_cap_is_refused(investigator, capped, overrides, message):
    response = investigator.client.post("/department/incidents/", incident_post_data(**overrides))
    assert message in response.content.decode()
    with schema_context("concord"):
        assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "overrides", [{"radius_m": "16404"}, {"radius_m": "8202", "kind": "missing_person"}]
)
def test_a_radius_within_the_cap_opens_the_incident(investigator, capped, overrides):
    response = investigator.client.post("/department/incidents/", incident_post_data(**overrides))
    assert response.status_code == 302
    with schema_context("concord"):
        assert Incident.objects.get().search_radius_m == 5_000


def test_a_case_without_notices_asks_for_no_answers_or_clips(crowded):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff, incident, _sites = crowded
    with CaptureQueriesContext(connection) as page:
        assert staff.client.get(f"/department/incidents/{incident.pk}/").status_code == 200
    statements = [query["sql"] for query in page.captured_queries]
    # One read of the case's notices; no answer, request or clip is looked for without one.
    assert sum('FROM "department_notification"' in sql for sql in statements) == 1
    assert not [sql for sql in statements if "department_footageclip" in sql]
    assert not [sql for sql in statements if 'FROM "department_notificationrecipient"' in sql]
    # The audit's check and its entry, with no transaction (here a savepoint) around them.
    assert not [sql for sql in statements if sql.startswith(("BEGIN", "SAVEPOINT"))]
