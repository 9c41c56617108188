"""Personas of the oversight tests: a council member with the oversight role, and a registry
whose owners carry distinctive names, addresses, emails and phones that must never reach them."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django_tenants.utils import schema_context

from portal.registry.audit import Actor, audit_record
from portal.registry.models import AuditEntry, Camera, Participant, Site
from tests.conftest import incident_post_data

# What no page an oversight account can reach may show.
NAME = "Zebulon Quackenbush"
EMAIL = "zebulon.quack@example.net"
PHONE = "(704) 555-0199"
ADDRESS = "1313 Mockingbird Lane"
ORGANISATION = "Quackenbush Widgets LLC"
CAMERA_LABEL = "Porch of Zeb"
SECRETS = (
    NAME,
    EMAIL,
    PHONE,
    "555-0199",
    "5550199",
    ADDRESS,
    "Mockingbird",
    ORGANISATION,
    CAMERA_LABEL,
    "Quackenbush",
    "zebulon",
)


@pytest.fixture
def overseer(make_staff):
    """Concord's council auditor, with the oversight role, signed in with a second factor."""
    return make_staff("concord", "oversight", email="auditor@council.concord.example.org")


@dataclass
class Seeded:
    site_id: int
    incident_id: int
    entry_ids: list[int]


def seed_registry(make_resident, make_staff, site_data, schema_name: str = "concord") -> Seeded:
    """A resident with one distinctive site, an investigator's incident, a reveal of the site
    with a note naming its street, and entries whose free text carries the owner's data (as an
    older writer or an owner's action could have left them)."""
    resident = make_resident(schema_name, email=EMAIL, organisation_name=ORGANISATION)
    resident.client.post(
        "/register/",
        site_data(
            contact_name=NAME,
            contact_email=EMAIL,
            contact_phone=PHONE,
            address=f"{ADDRESS}, Concord, NC 28025",
            **{"cameras-0-label": CAMERA_LABEL},
        ),
    )
    investigator = make_staff(
        schema_name, "investigator", email=f"detective@{schema_name}.example.org"
    )
    response = investigator.client.post(
        "/department/incidents/", incident_post_data(case_number="CPD-2026-7777")
    )
    incident_id = int(response["Location"].rstrip("/").rsplit("/", 1)[-1])
    with schema_context(schema_name):
        site = Site.objects.get(contact_name=NAME)
    investigator.client.post(
        f"/department/incidents/{incident_id}/sites/{site.pk}/reveal/",
        {"note": f"Camera at {ADDRESS} faces the lot"},
    )
    # The canvass page and the exact map are recorded too.
    investigator.client.get(f"/department/incidents/{incident_id}/")
    investigator.client.get("/department/map/data.json?bbox=35,-81,36,-80&zoom=17")
    with schema_context(schema_name):
        camera = Camera.objects.get(site=site)
        participant = Participant.objects.get(user__email=EMAIL)
        audit_record(
            actor=Actor(f"detective@{schema_name}.example.org", "investigator", "10.0.0.7"),
            action=AuditEntry.Action.LIVE_FEED_END,
            reason=(
                f"Live view of camera {camera.pk} ({camera.label}) ended: removed by {EMAIL} "
                f"call {PHONE}; 12 s watched"
            ),
            site=site,
        )
        audit_record(
            actor=Actor.of_participant(participant, "203.0.113.9"),
            action=AuditEntry.Action.INTEGRATION_END,
            reason=f"Device removed at {ADDRESS} by {NAME}",
            site=site,
        )
        entry_ids = list(AuditEntry.objects.order_by("pk").values_list("pk", flat=True))
    return Seeded(site.pk, incident_id, entry_ids)


@pytest.fixture
def seeded(make_resident, make_staff, site_data) -> Seeded:
    return seed_registry(make_resident, make_staff, site_data)
