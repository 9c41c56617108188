"""An oversight account reads the whole audit trail, and no page it can reach shows a
resident's name, contact or exact address: every link from its dashboard is followed."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django_tenants.utils import schema_context

from portal.oversight.models import Finding
from portal.oversight.services import finding_record
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, StaffMember
from tests.oversight.conftest import ADDRESS, CAMERA_LABEL, EMAIL, NAME, SECRETS

pytestmark = pytest.mark.django_db

_HREF = re.compile(r'(?:href|action|data-[\w-]*url)="(/[^"#]*)"')
# Leaving or switching language is not reading.
_SKIP = ("/static/", "/media/", "/accounts/logout", "/i18n/")


def leaks(body: str) -> list[str]:
    text = unescape(body).casefold()
    return [secret for secret in SECRETS if secret.casefold() in text]


def crawl(client, start: str, limit: int = 200) -> dict[str, int]:
    """GET every page reachable by links from `start` on the same host; what each answered."""
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < limit:
        path = unescape(queue.pop(0))
        if path in seen or path.startswith(_SKIP):
            continue
        response = client.get(path)
        seen[path] = response.status_code
        assert response.status_code < 500, path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        body = body.decode(errors="replace")
        assert not leaks(body), (path, leaks(body))
        if response.status_code in (301, 302):
            queue.append(response["Location"])
        queue.extend(_HREF.findall(body))
    return seen


def test_the_oversight_trail_lists_every_entry_without_personal_data(overseer, seeded):
    page = overseer.client.get("/department/oversight/").content.decode()
    for entry_id in seeded.entry_ids:
        assert f"Review entry {entry_id}<" in page
    assert "CPD-2026-7777" in page
    assert "Contact details revealed" in page
    assert "faces the lot" in page  # the staff member's note, without the street it named
    assert "a resident" in page
    assert not leaks(page)
    # The same entries on the administrators' own page do carry what the writers put in them:
    # the oversight page is what takes it out.
    with schema_context("concord"):
        reasons = " ".join(AuditEntry.objects.values_list("reason", flat=True))
        notes = " ".join(AuditEntry.objects.values_list("note", flat=True))
    assert EMAIL in reasons and NAME in reasons and CAMERA_LABEL in reasons
    assert ADDRESS in notes


def test_sites_appear_by_number_and_coarse_area(overseer, seeded):
    page = overseer.client.get(f"/department/oversight/?site={seeded.site_id}").content.decode()
    assert f"<td>{seeded.site_id}</td>" in page
    assert re.search(
        r"within 1 mi of the center|about \d+ mi (north|south|east|west)[\w-]* of the center", page
    )
    assert "35.408" not in page and "-80.581" not in page


def test_no_page_an_oversight_account_reaches_shows_personal_data(overseer, seeded):
    with schema_context("concord"):
        actor = Actor.of_staff(
            StaffMember.objects.select_related("user").get(role="oversight"), "10.0.0.1"
        )
        finding_record(
            actor=actor, entry_id=seeded.entry_ids[-1], text="Looks odd.", severity="concern"
        )
    seen = crawl(overseer.client, "/department/")
    assert seen["/department/oversight/"] == 200
    assert seen["/department/oversight/findings/"] == 200
    assert any(path.startswith("/department/oversight/entries/") for path in seen)
    assert seen["/department/map/"] == 200
    # Pages that are not the oversight role's answer 403 and show nothing.
    for path in (
        "/department/audit/",
        "/department/audit.csv",
        "/department/registry.csv",
        "/department/registry.geojson",
        f"/department/incidents/{seeded.incident_id}/",
        f"/department/incidents/{seeded.incident_id}/canvass.csv",
        f"/department/incidents/{seeded.incident_id}/canvass/rows.json",
        "/department/incidents/",
        "/department/staff/",
        "/department/device-subscriptions/",
        "/department/live/",
        "/department/import/",
        "/department/settings/",
    ):
        response = overseer.client.get(path)
        assert response.status_code == 403, path
    # Up close, the map gives counts on the coarse grid, never a site's place.
    data = overseer.client.get("/department/map/data.json?bbox=35,-81,36,-80&zoom=18").json()
    assert "sites" not in data and data["clusters"]
    with schema_context("concord"):
        assert (
            not AuditEntry.objects.filter(action=AuditEntry.Action.MAP_VIEW)
            .exclude(actor_role="investigator")
            .exists()
        )
        assert Finding.objects.count() == 1
    for entry_id in seeded.entry_ids:
        body = overseer.client.get(f"/department/oversight/entries/{entry_id}/").content
        assert not leaks(body.decode())
