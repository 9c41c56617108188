"""One request's page: every field, its flags explained, its duplicates both ways, the department
once live, the way to provisioning once approved, and its history with who did what and why."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context
from onboarding.models import ProgramRequest, ProgramRequestEvent

from tenants.models import Department

pytestmark = pytest.mark.django_db

Status = ProgramRequest.Status


def test_the_page_shows_every_field_of_the_request(alice, make_request):
    program_request = make_request(
        purchasing=ProgramRequest.Purchasing.COOPERATIVE,
        purchasing_note="Sourcewell 010720",
        message="We already run a spreadsheet of 80 cameras.",
        language="es",
    )

    page = alice.client.get(f"/console/requests/{program_request.pk}/").content.decode()

    for shown in [
        "Springfield Police Department",
        "Springfield, IL",
        "America/Chicago",
        "Clancy Wiggum, Chief of Police",
        "chief@springfieldpd.gov",
        "+1 217 555 0100",
        "250",
        "wanted",
        "springfield",
        "Cooperative contract: Sourcewell 010720",
        "We already run a spreadsheet of 80 cameras.",
        "<dd>es</dd>",
        "New",
    ]:
        assert shown in page, shown


def test_an_unknown_request_is_not_found(alice, make_request):
    make_request()

    assert alice.client.get("/console/requests/999999/").status_code == 404
    assert (
        alice.client.post("/console/requests/999999/status/", {"to_status": "approved"}).status_code
        == 404
    )
    assert alice.client.post("/console/requests/999999/notes/", {"text": "x"}).status_code == 404


def test_the_flags_are_explained_and_duplicates_are_linked_both_ways(alice, make_request):
    first = make_request(agency_name="Concord PD", city="Concord", state="NC")
    second = make_request(
        agency_name="Concord Police",
        city="Concord",
        state="NC",
        contact_email="sgt.concord@gmail.com",
        personal_email=True,
        duplicate_of=first,
    )
    concord = Department.objects.get(schema_name="concord")

    later = alice.client.get(f"/console/requests/{second.pk}/").content.decode()
    earlier = alice.client.get(f"/console/requests/{first.pk}/").content.decode()

    assert "sgt.concord@gmail.com is a free-mail address, not an agency's" in later
    assert f'href="/console/requests/{first.pk}/">#{first.pk}</a>' in later
    assert "City already served." in later
    assert f'href="/console/departments/{concord.pk}/">Concord Police Department</a>' in later
    assert f'Repeated by <a href="/console/requests/{second.pk}/">#{second.pk}</a>' in earlier
    assert "free-mail" not in earlier


def test_an_approved_request_offers_provisioning(alice, make_request):
    approved = make_request(status=Status.APPROVED)
    waiting = make_request(agency_name="Ogdenville PD")

    page = alice.client.get(f"/console/requests/{approved.pk}/").content.decode()

    assert f'href="/console/requests/{approved.pk}/provision/"' in page
    assert (
        "/provision/" not in alice.client.get(f"/console/requests/{waiting.pk}/").content.decode()
    )


def test_a_live_request_links_its_department_and_offers_no_step(alice, make_request):
    concord = Department.objects.get(schema_name="concord")
    live = make_request(
        agency_name="Concord Police Department",
        city="Concord",
        state="NC",
        status=Status.PROVISIONED,
        department=concord,
    )

    page = alice.client.get(f"/console/requests/{live.pk}/").content.decode()

    assert f'<a href="/console/departments/{concord.pk}/">Concord Police Department</a>' in page
    # Its own department is not "another department already serving the city".
    assert "City already served" not in page
    assert 'name="to_status"' not in page


@pytest.mark.parametrize(
    ("status", "buttons"),
    [
        (Status.NEW, ["Start review", "Approve", "Decline"]),
        (Status.IN_REVIEW, ["Approve", "Decline"]),
        (Status.APPROVED, ["Reopen", "Decline"]),
        (Status.DECLINED, ["Reopen"]),
        (Status.UNCONFIRMED, []),
        (Status.PROVISIONED, []),
    ],
)
def test_only_the_allowed_next_steps_are_offered(alice, make_request, status, buttons):
    program_request = make_request(status=status)

    page = alice.client.get(f"/console/requests/{program_request.pk}/").content.decode()

    offered = [
        label
        for label in ["Start review", "Approve", "Decline", "Reopen"]
        if f'<button type="submit">{label}</button>' in page
    ]
    assert sorted(offered) == sorted(buttons)


def test_the_history_shows_who_did_what_and_why(alice, bob, make_request):
    program_request = make_request()
    with schema_context("public"):
        ProgramRequestEvent.objects.create(
            request=program_request, kind=ProgramRequestEvent.Kind.SUBMITTED
        )
    bob.client.post(
        f"/console/requests/{program_request.pk}/notes/", {"text": "Called the chief: real."}
    )
    alice.client.post(
        f"/console/requests/{program_request.pk}/status/",
        {"to_status": "declined", "reason": "Springfield is outside the states we serve."},
    )

    page = alice.client.get(f"/console/requests/{program_request.pk}/").content.decode()

    history = page[page.index("History") :]
    assert "the requester" in history
    assert "Submitted" in history
    assert "bob@canvass.example.org" in history
    assert "Called the chief: real." in history
    assert "alice@canvass.example.org" in history
    assert "Status changed: New → Declined" in history
    assert "Springfield is outside the states we serve." in history
    assert "Requester emailed" in history
    assert history.index("bob@canvass") < history.index("alice@canvass")
