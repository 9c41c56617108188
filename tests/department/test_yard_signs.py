"""Yard signs residents ask for on the site form reach the department: a fulfilment list of
the signs to deliver with their addresses, its CSV export, and "delivered" (when and by whom,
recorded), after which a sign leaves the list and shows under "delivered"."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.department.yard_sign_views import YARD_SIGN_PAGE_SIZE
from portal.registry.models import AuditEntry, Participant, Site
from portal.registry.services import participant_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests(make_resident, site_data):
    """Alice asks for a sign at a PO box; Bob for one at his site; Carla for none."""
    alice = make_resident("concord")
    alice.client.post(
        "/register/", site_data(yard_sign_requested="on", yard_sign_address="PO Box 12")
    )
    bob = make_resident("concord", email="bob@example.org")
    bob.client.post(
        "/register/",
        site_data(address="9 Church St N, Concord", yard_sign_requested="on", contact_email=""),
    )
    carla = make_resident("concord", email="carla@example.org")
    carla.client.post("/register/", site_data(address="1 Quiet Ln, Concord"))
    with schema_context("concord"):
        return {
            "alice": Site.objects.get(participant__user__email="alice@example.org"),
            "bob": Site.objects.get(participant__user__email="bob@example.org"),
            "carla": Site.objects.get(participant__user__email="carla@example.org"),
        }


def entries(action: str, schema_name: str = "concord") -> list[AuditEntry]:
    with schema_context(schema_name):
        return list(AuditEntry.objects.filter(action=action).order_by("pk"))


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_the_list_shows_the_signs_to_deliver_with_their_addresses(admin, requests):
    response = admin.client.get("/department/yard-signs/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "PO Box 12" in page and "9 Church St N, Concord" in page
    assert "1 Quiet Ln" not in page
    # Alice's sign goes to her box: her site's address is given beside it.
    assert "77 Union St S, Concord, NC 28025" in page
    (entry,) = entries(AuditEntry.Action.YARD_SIGNS_VIEW)
    assert entry.actor_email == admin.email
    assert entry.reason == "Yard-sign list (to deliver) with 2 addresses"


def test_the_console_links_the_list_for_administrators(admin, investigator):
    assert 'href="/department/yard-signs/"' in admin.client.get("/department/").content.decode()
    assert (
        'href="/department/yard-signs/"'
        not in investigator.client.get("/department/").content.decode()
    )
    assert investigator.client.get("/department/yard-signs/").status_code == 403
    assert investigator.client.get("/department/yard-signs.csv").status_code == 403


def test_delivered_records_when_and_who_and_moves_the_sign(admin, requests):
    alice = requests["alice"]
    response = admin.client.post(f"/department/yard-signs/{alice.pk}/delivered/", follow=True)
    assert "The yard sign for PO Box 12 is marked delivered." in messages_of(response)
    with schema_context("concord"):
        alice.refresh_from_db()
        assert alice.yard_sign_delivered_at is not None
        assert alice.yard_sign_delivered_by.user.email == admin.email
    (entry,) = entries(AuditEntry.Action.YARD_SIGN_DELIVERED)
    assert (entry.actor_email, entry.site_id) == (admin.email, alice.pk)
    assert entry.participant_id == alice.participant_id

    pending = admin.client.get("/department/yard-signs/").content.decode()
    assert "PO Box 12" not in pending and "9 Church St N" in pending
    delivered = admin.client.get("/department/yard-signs/", {"status": "delivered"})
    assert "PO Box 12" in delivered.content.decode()
    assert f"by {admin.email}" in delivered.content.decode()
    assert "9 Church St N" not in delivered.content.decode()

    again = admin.client.post(f"/department/yard-signs/{alice.pk}/delivered/", follow=True)
    assert "This yard sign is already marked delivered." in messages_of(again)
    assert len(entries(AuditEntry.Action.YARD_SIGN_DELIVERED)) == 1


def test_a_site_without_a_request_cannot_be_marked(admin, requests):
    carla = requests["carla"]
    response = admin.client.post(f"/department/yard-signs/{carla.pk}/delivered/", follow=True)
    assert "No yard sign was requested for this site." in messages_of(response)
    with schema_context("concord"):
        carla.refresh_from_db()
        assert carla.yard_sign_delivered_at is None
    assert entries(AuditEntry.Action.YARD_SIGN_DELIVERED) == []


def test_the_export_holds_the_listed_signs_and_is_recorded_per_site(admin, requests):
    admin.client.post(f"/department/yard-signs/{requests['bob'].pk}/delivered/")
    response = admin.client.get("/department/yard-signs.csv")
    assert response["Content-Disposition"] == 'attachment; filename="yard-signs-to-deliver.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(row["site"], row["deliver_to"]) for row in rows] == [
        (str(requests["alice"].pk), "PO Box 12")
    ]
    delivered = admin.client.get("/department/yard-signs.csv", {"status": "delivered"})
    rows = list(csv.DictReader(io.StringIO(delivered.content.decode())))
    assert [(row["deliver_to"], row["delivered_by"]) for row in rows] == [
        ("9 Church St N, Concord", admin.email)
    ]
    exports = [entry for entry in entries("export") if entry.reason.startswith("Yard-sign")]
    assert [entry.site_id for entry in exports] == [requests["alice"].pk, requests["bob"].pk]


@pytest.mark.parametrize("path", ["/department/yard-signs/", "/department/yard-signs.csv"])
def test_an_unknown_status_gets_a_message_in_english_and_spanish(admin, path):
    response = admin.client.get(path, {"status": "lost"})
    assert response.status_code == 400
    assert "Choose “To deliver” or “Delivered”." in response.content.decode()
    admin.client.cookies["django_language"] = "es"
    response = admin.client.get(path, {"status": "lost"})
    assert response.status_code == 400
    assert "Elija «Por entregar» o «Entregados»." in response.content.decode()


def test_the_list_is_paginated(admin, requests):
    with schema_context("concord"):
        owner = Participant.objects.get(user__email="carla@example.org")
        Site.objects.bulk_create(
            Site(
                participant=owner,
                kind="home",
                address=f"{number} Sign St, Concord",
                latitude=35.41,
                longitude=-80.58,
                contact_name="Carla",
                contact_method="email",
                terms_version=1,
                terms_accepted_at=timezone.now(),
                yard_sign_requested=True,
            )
            for number in range(YARD_SIGN_PAGE_SIZE + 10)
        )
    first = admin.client.get("/department/yard-signs/").content.decode()
    second = admin.client.get("/department/yard-signs/", {"page": "2"}).content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    listed = [
        n for n in range(YARD_SIGN_PAGE_SIZE + 10) if f">{n} Sign St, Concord<" in first + second
    ]
    assert len(listed) == YARD_SIGN_PAGE_SIZE + 10
    # Oldest request first: the residents' two signs lead the first page.
    assert first.index("PO Box 12") < first.index("0 Sign St, Concord")


def site_asking_for_a_sign(schema_name: str, email: str, pk: int, address: str) -> Site:
    """A site numbered `pk` in the city (ids repeat from city to city) whose owner asked for a
    yard sign."""
    with schema_context(schema_name):
        user = get_user_model().objects.create_user(username=email, email=email)
        owner = participant_create(user=user)
        return Site.objects.create(
            pk=pk,
            participant=owner,
            kind="home",
            address=address,
            latitude=35.41,
            longitude=-80.58,
            contact_name="Owner",
            contact_method="email",
            terms_version=1,
            terms_accepted_at=timezone.now(),
            yard_sign_requested=True,
        )


def test_a_site_id_of_another_city_is_not_found_here(admin):
    theirs = site_asking_for_a_sign("carrollton", "dee@example.org", 900_001, "100 Maple St")
    response = admin.client.post(f"/department/yard-signs/{theirs.pk}/delivered/")
    assert response.status_code == 404
    with schema_context("carrollton"):
        theirs.refresh_from_db()
        assert theirs.yard_sign_delivered_at is None
    assert "100 Maple St" not in admin.client.get("/department/yard-signs/").content.decode()


def test_an_id_both_cities_use_marks_this_citys_sign_only(admin):
    theirs = site_asking_for_a_sign("carrollton", "dee@example.org", 900_002, "100 Maple St")
    ours = site_asking_for_a_sign("concord", "eve@example.org", 900_002, "5 Union St S")

    response = admin.client.post(f"/department/yard-signs/{ours.pk}/delivered/", follow=True)

    assert "The yard sign for 5 Union St S is marked delivered." in messages_of(response)
    with schema_context("concord"):
        ours.refresh_from_db()
        assert ours.yard_sign_delivered_at is not None
    with schema_context("carrollton"):
        theirs.refresh_from_db()
        assert theirs.yard_sign_delivered_at is None
        assert not AuditEntry.objects.filter(action="yard_sign_delivered").exists()
