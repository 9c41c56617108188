"""Every department URL for every kind of visitor gives the expected answer."""

from __future__ import annotations

from secrets import token_urlsafe

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.models import Incident
from portal.registry.models import Site, StaffMember

pytestmark = pytest.mark.django_db

ROLES = ("administrator", "investigator", "operator", "analyst")
VISITORS = (*ROLES, "resident", "anonymous", "carrollton_administrator")
CASEWORK = {"administrator": 200, "investigator": 200, "operator": 200, "analyst": 403}
ADMIN_ONLY = {"administrator": 200, "investigator": 403, "operator": 403, "analyst": 403}
EVERY_STAFF = dict.fromkeys(ROLES, 200)
LIVE_VIEW = CASEWORK
# Another staff member's grant (or none) is not found; analysts may not ask.
LIVE_VIEW_NOT_THEIRS = {"administrator": 404, "investigator": 404, "operator": 404, "analyst": 403}
OUTSIDERS = {"resident": 403, "anonymous": 302, "carrollton_administrator": 302}

# (method, path template, data, expected status per visitor)
MATRIX = [
    ("get", "/department/", None, EVERY_STAFF),
    ("get", "/department/staff/", None, ADMIN_ONLY),
    ("get", "/department/audit/", None, ADMIN_ONLY),
    ("get", "/department/audit.csv", None, ADMIN_ONLY),
    ("get", "/department/settings/", None, ADMIN_ONLY),
    ("get", "/department/map/", None, EVERY_STAFF),
    ("get", "/department/map/data.json?bbox=35,-81,36,-80&zoom=12", None, EVERY_STAFF),
    ("get", "/department/registry.csv", None, ADMIN_ONLY),
    ("get", "/department/registry.geojson", None, ADMIN_ONLY),
    ("get", "/department/import/", None, ADMIN_ONLY),
    ("get", "/department/incidents/", None, CASEWORK),
    ("get", "/department/incidents/{incident}/", None, CASEWORK),
    ("get", "/department/incidents/{incident}/canvass/rows.json", None, CASEWORK),
    ("get", "/department/incidents/{incident}/canvass.csv", None, CASEWORK),
    (
        "post",
        "/department/incidents/{incident}/sites/{site}/state/",
        {"state": "contacted", "notes": ""},
        {**CASEWORK, "administrator": 302, "investigator": 302, "operator": 302},
    ),
    (
        "post",
        "/department/incidents/{incident}/notify/",
        {"message": "Please check your camera.", "key": token_urlsafe()},
        {**CASEWORK, "administrator": 302, "investigator": 302, "operator": 302},
    ),
    (
        "post",
        "/department/incidents/{incident}/sites/{site}/request/",
        {"message": ""},
        {**CASEWORK, "administrator": 302, "investigator": 302, "operator": 302},
    ),
    # Staff accounts: only administrators change them (the action answers with the staff page).
    (
        "post",
        "/department/staff/{member}/role/",
        {"role": "analyst"},
        {**ADMIN_ONLY, "administrator": 302},
    ),
    ("post", "/department/staff/{member}/deactivate/", {}, {**ADMIN_ONLY, "administrator": 302}),
    ("post", "/department/staff/{member}/reactivate/", {}, {**ADMIN_ONLY, "administrator": 302}),
    (
        "post",
        "/department/incidents/{incident}/sites/{site}/reveal/",
        {"note": ""},
        CASEWORK,
    ),
    ("get", "/department/live/", None, LIVE_VIEW),
    ("get", "/department/live/cameras.json", None, LIVE_VIEW),
    ("get", "/department/live/cameras/{camera}/open/", None, LIVE_VIEW),
    # The site is not integrated: the form says why, and nothing opens.
    (
        "post",
        "/department/live/cameras/{camera}/open/",
        {"reason": "active_threat", "case_number": "1"},
        LIVE_VIEW,
    ),
    ("get", "/department/live/grants/999999/", None, LIVE_VIEW_NOT_THEIRS),
    ("get", "/department/live/grants/999999/status.json", None, LIVE_VIEW_NOT_THEIRS),
    ("post", "/department/live/grants/999999/renew/", {"reason": "x"}, LIVE_VIEW_NOT_THEIRS),
    ("post", "/department/live/grants/999999/close/", {}, LIVE_VIEW_NOT_THEIRS),
]


@pytest.fixture
def world(make_resident, make_staff, site_data):
    resident = make_resident("concord")
    resident.client.post("/register/", site_data())
    visitors = {role: make_staff("concord", role).client for role in ROLES}
    visitors["resident"] = resident.client
    visitors["anonymous"] = make_staff(
        "concord", "operator", email="x@x.org", signed_in=False
    ).client
    # A Carrollton administrator's session, carried to Concord's host, is nobody there.
    carrollton = make_staff("carrollton", "administrator")
    carrollton.client.defaults["HTTP_HOST"] = "concord.localhost"
    visitors["carrollton_administrator"] = carrollton.client
    # The staff member whose account the matrix changes.
    make_staff("concord", "operator", email="changed@concord.example.org", signed_in=False)
    with schema_context("concord"):
        member = StaffMember.objects.get(user__email="changed@concord.example.org")
        site = Site.objects.get()
        incident = Incident.objects.create(
            kind="crime",
            category="burglary",
            case_number="1",
            latitude=site.latitude,
            longitude=site.longitude,
            starts_at=timezone.now(),
            ends_at=timezone.now(),
            radius_m=300,
            opened_by=site.participant.user,
        )
        camera = site.cameras.first()
    return visitors, {
        "incident": incident.pk,
        "site": site.pk,
        "member": member.pk,
        "camera": camera.pk,
    }


@pytest.mark.parametrize(("method", "path", "data", "expected"), MATRIX)
def test_permission_matrix(world, method, path, data, expected):
    visitors, ids = world
    url = path.format(**ids)
    answers = {}
    for visitor in VISITORS:
        client = visitors[visitor]
        response = client.post(url, data) if method == "post" else client.get(url)
        answers[visitor] = response.status_code
    assert answers == {**expected, **OUTSIDERS}
