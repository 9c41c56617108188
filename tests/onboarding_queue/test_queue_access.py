"""Who reaches the queue: vendor staff whose role manages departments; other vendor staff and
other accounts are forbidden, visitors sent to sign in, and a city's host has no queue at all.
The console's navigation shows the queue, with the count of new requests, to those who may."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django_tenants.utils import schema_context
from onboarding.models import ProgramRequest

from tests.onboarding_queue.conftest import rows_written

pytestmark = pytest.mark.django_db

Status = ProgramRequest.Status


def paths(program_request: ProgramRequest) -> list[str]:
    return [
        "/console/requests/",
        f"/console/requests/{program_request.pk}/",
    ]


def posts(program_request: ProgramRequest) -> list[tuple[str, dict[str, str]]]:
    return [
        (f"/console/requests/{program_request.pk}/status/", {"to_status": "approved"}),
        (f"/console/requests/{program_request.pk}/notes/", {"text": "A note."}),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(platform_client, make_request):
    program_request = make_request()
    for path in paths(program_request):
        response = platform_client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"
    for path, data in posts(program_request):
        assert platform_client.post(path, data)["Location"].startswith("/accounts/login/")
    with schema_context("public"):
        assert ProgramRequest.objects.get(pk=program_request.pk).status == Status.NEW


def test_a_platform_account_that_is_not_vendor_staff_is_forbidden(platform_client, make_request):
    program_request = make_request()
    with schema_context("public"):
        get_user_model().objects.create_user(
            username="intern", email="intern@example.org", password="a-long-passphrase"
        )
    platform_client.login(username="intern", password="a-long-passphrase")
    before = rows_written()

    for path in paths(program_request):
        assert platform_client.get(path).status_code == 403
    for path, data in posts(program_request):
        assert platform_client.post(path, data).status_code == 403
    assert rows_written() == before


@pytest.mark.parametrize("role", ["support", "billing"])
def test_vendor_staff_whose_role_does_not_manage_departments_are_forbidden(
    make_reviewer, make_request, role
):
    program_request = make_request()
    reviewer = make_reviewer(role)
    before = rows_written()

    for path in paths(program_request):
        assert reviewer.client.get(path).status_code == 403
    for path, data in posts(program_request):
        assert reviewer.client.post(path, data).status_code == 403
    assert rows_written() == before
    assert "/console/requests/" not in reviewer.client.get("/console/").content.decode()


def test_the_vendor_superuser_reaches_the_queue(platform_client, vendor, sign_in, make_request):
    make_request(agency_name="Shelbyville PD")
    sign_in(platform_client, vendor)

    assert "Shelbyville PD" in platform_client.get("/console/requests/").content.decode()


def test_a_city_administrator_on_their_city_host_cannot_reach_the_queue(
    concord_client, concord_admin, sign_in, make_request
):
    program_request = make_request(agency_name="Shelbyville PD")
    sign_in(concord_client, concord_admin)

    for path in paths(program_request):
        response = concord_client.get(path)
        assert response.status_code in (403, 404)
        assert "Shelbyville PD" not in response.content.decode()
    for path, data in posts(program_request):
        assert concord_client.post(path, data).status_code in (403, 404)
    with schema_context("public"):
        assert ProgramRequest.objects.get(pk=program_request.pk).status == Status.NEW


def test_the_navigation_counts_the_new_requests(alice, make_request):
    for _ in range(3):
        make_request()
    make_request(status=Status.IN_REVIEW)
    make_request(status=Status.UNCONFIRMED)
    make_request(status=Status.APPROVED)

    page = alice.client.get("/console/").content.decode()

    assert (
        '<a href="/console/requests/">Requests <span class="badge">3'
        '<span class="visually-hidden"> new</span></span></a>'
    ) in page


def test_the_navigation_shows_no_badge_when_nothing_is_new(alice, make_request):
    make_request(status=Status.IN_REVIEW)

    page = alice.client.get("/console/").content.decode()

    assert '<a href="/console/requests/">Requests</a>' in page
    assert 'class="badge"' not in page
