"""The queue: the open requests oldest first by default, a tab per status with its count, the
unconfirmed ones apart, search by agency, city or email, 50 a page, and each row's flags."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from onboarding.models import ProgramRequest

pytestmark = pytest.mark.django_db

Status = ProgramRequest.Status


def aged(program_request: ProgramRequest, days: int) -> ProgramRequest:
    with schema_context("public"):
        ProgramRequest.objects.filter(pk=program_request.pk).update(
            created_at=timezone.now() - timedelta(days=days)
        )
    return program_request


def agencies(page: str) -> list[str]:
    """The agencies of the queue's rows, in their order."""
    return re.findall(r'<a href="/console/requests/\d+/">([^<]+)</a>', page)


def test_the_default_tab_lists_the_requests_needing_action_oldest_first(alice, make_request):
    aged(make_request(agency_name="Approved PD", status=Status.APPROVED), 3)
    aged(make_request(agency_name="Newest PD"), 1)
    aged(make_request(agency_name="Oldest PD", status=Status.IN_REVIEW), 9)
    aged(make_request(agency_name="Declined PD", status=Status.DECLINED), 20)
    aged(make_request(agency_name="Unconfirmed PD", status=Status.UNCONFIRMED), 30)
    aged(make_request(agency_name="Live PD", status=Status.PROVISIONED), 40)

    response = alice.client.get("/console/requests/")

    assert response.status_code == 200
    assert agencies(response.content.decode()) == ["Oldest PD", "Approved PD", "Newest PD"]


def test_each_tab_has_its_count_and_unconfirmed_requests_are_not_counted_as_work(
    alice, make_request
):
    for status, many in [
        (Status.NEW, 2),
        (Status.IN_REVIEW, 1),
        (Status.APPROVED, 1),
        (Status.DECLINED, 3),
        (Status.UNCONFIRMED, 4),
        (Status.PROVISIONED, 1),
    ]:
        for number in range(many):
            make_request(agency_name=f"{status} {number} PD", status=status)

    page = alice.client.get("/console/requests/").content.decode()

    assert "Needs action (4)" in page
    assert "New (2)" in page
    assert "In review (1)" in page
    assert "Approved (1)" in page
    assert "Declined (3)" in page
    assert "Live (1)" in page
    assert "Email not confirmed (4)" in page
    assert "unconfirmed 0 PD" not in page


def test_the_unconfirmed_tab_lists_only_unconfirmed_requests(alice, make_request):
    make_request(agency_name="Waiting PD", status=Status.UNCONFIRMED, email_confirmed_at=None)
    make_request(agency_name="Confirmed PD")

    page = alice.client.get("/console/requests/?status=unconfirmed").content.decode()

    assert agencies(page) == ["Waiting PD"]


def test_a_status_tab_lists_that_status_only(alice, make_request):
    make_request(agency_name="Declined PD", status=Status.DECLINED)
    make_request(agency_name="New PD")

    page = alice.client.get("/console/requests/?status=declined").content.decode()

    assert agencies(page) == ["Declined PD"]


@pytest.mark.parametrize(
    "query", ["shelby", "SHELBYVILLE", "chief@shelbyvillepd", "Shelbyville Sheriff"]
)
def test_search_finds_a_request_by_agency_city_or_email(alice, make_request, query):
    make_request(
        agency_name="Shelbyville Sheriff's Office",
        city="Shelbyville",
        contact_email="chief@shelbyvillepd.gov",
    )
    make_request(agency_name="Ogdenville Police", city="Ogdenville", contact_email="a@og.gov")

    page = alice.client.get("/console/requests/", {"q": query}).content.decode()

    assert agencies(page) == ["Shelbyville Sheriff&#x27;s Office"]


def test_search_stays_within_the_chosen_tab(alice, make_request):
    make_request(agency_name="Shelbyville PD", status=Status.DECLINED)

    assert agencies(alice.client.get("/console/requests/?q=shelby").content.decode()) == []
    page = alice.client.get("/console/requests/?q=shelby&status=declined").content.decode()
    assert agencies(page) == ["Shelbyville PD"]


def test_the_queue_shows_fifty_requests_a_page(alice, make_request):
    with schema_context("public"):
        ProgramRequest.objects.bulk_create(
            ProgramRequest(
                agency_name=f"Agency {number:03d}",
                city="Town",
                state="TX",
                contact_name="C",
                contact_title="T",
                contact_email=f"c{number}@town.gov",
                contact_phone="1",
                expected_cameras=1,
                subdomain=f"town{number}",
                purchasing="card",
                status=Status.NEW,
                created_at=timezone.now() - timedelta(minutes=200 - number),
            )
            for number in range(120)
        )

    first = alice.client.get("/console/requests/").content.decode()
    third = alice.client.get("/console/requests/?status=open&page=3").content.decode()

    assert len(agencies(first)) == 50
    assert agencies(first)[0] == "Agency 000"
    assert "Page 1 of 3" in first
    assert "page=2" in first
    assert agencies(third) == [f"Agency {number:03d}" for number in range(100, 120)]
    # A page beyond the last is the last one, a page that is no number the first.
    assert agencies(alice.client.get("/console/requests/?page=99").content.decode())[-1] == (
        "Agency 119"
    )
    assert agencies(alice.client.get("/console/requests/?page=x").content.decode())[0] == (
        "Agency 000"
    )


def test_each_row_shows_the_request_and_its_flags(alice, make_request):
    first = make_request(agency_name="Concord PD", city="Concord", state="NC")
    make_request(
        agency_name="Concord Police",
        city="concord",
        state="NC",
        contact_email="sgt.concord@gmail.com",
        personal_email=True,
        duplicate_of=first,
        expected_cameras=1234,
        wants_devices=False,
    )

    page = alice.client.get("/console/requests/").content.decode()

    row = page[page.index("Concord Police<") :]
    row = row[: row.index("</tr>")]
    assert "sgt.concord@gmail.com" in row
    assert "1234" in row
    assert ">no<" in row
    assert "personal email" in row
    assert f"duplicate of #{first.pk}" in row
    # The demo department serves Concord, NC already.
    assert "city already served" in row


def test_a_request_for_a_city_nobody_serves_has_no_flag(alice, make_request):
    make_request()

    page = alice.client.get("/console/requests/").content.decode()

    assert "city already served" not in page
    assert "personal email" not in page
    assert "duplicate of" not in page


@pytest.mark.parametrize(
    "query",
    ["status=everything", "q=" + "x" * 151, "q=%00", "status=%00&q=%ff%fe"],
)
def test_a_bad_filter_is_told_and_lists_nothing(alice, make_request, query):
    make_request()

    response = alice.client.get(f"/console/requests/?{query}")

    assert response.status_code == 400
    assert "Check the search" in response.content.decode()
    assert agencies(response.content.decode()) == []
