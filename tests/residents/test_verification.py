"""The yearly re-verification: notice, reminder, lapse, purge; one-click links that work once.

Time is moved with time-machine, never slept."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django_tenants.utils import schema_context

from portal.registry.models import Camera, Participant, Site
from portal.registry.services import verification_token

pytestmark = pytest.mark.django_db

REGISTERED = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ANNIVERSARY = REGISTERED + timedelta(days=365)


@pytest.fixture
def alice(make_resident, site_data):
    # The sign-in session is made in real time so that it is still valid when the test looks.
    resident = make_resident("concord")
    with time_machine.travel(REGISTERED, tick=False):
        resident.client.post("/register/", site_data())
    mail.outbox.clear()
    return resident


def run_on(day: datetime, capture) -> None:
    with time_machine.travel(day, tick=False), capture(execute=True):
        call_command("registry_verify", stdout=io.StringIO())


def participant() -> Participant:
    with schema_context("concord"):
        return Participant.objects.get(user__email="alice@example.org")


def link_in(message) -> str:
    return re.search(r"http://concord\.localhost:8000(/verify/[^/\s]+/)", message.body).group(1)


def test_nothing_is_sent_early(alice, django_capture_on_commit_callbacks):
    run_on(ANNIVERSARY - timedelta(days=31), django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_a_notice_goes_out_30_days_before_the_anniversary_once(
    alice, django_capture_on_commit_callbacks
):
    run_on(ANNIVERSARY - timedelta(days=30), django_capture_on_commit_callbacks)
    run_on(ANNIVERSARY - timedelta(days=29), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["alice@example.org"]
    assert (
        notice.subject
        == "Please confirm your camera registration with Concord Community Camera Registry"
    )
    assert "/verify/" in notice.body
    assert "http://concord.localhost:8000/my/" in notice.body


def test_the_notice_is_in_the_participants_language(
    make_resident, site_data, django_capture_on_commit_callbacks
):
    maria = make_resident("concord", email="maria@example.org", language="es")
    with time_machine.travel(REGISTERED, tick=False):
        maria.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
        maria.client.post("/register/", site_data())
    run_on(ANNIVERSARY - timedelta(days=30), django_capture_on_commit_callbacks)
    assert mail.outbox[0].subject.startswith("Confirme su registro de cámaras")


def test_the_link_confirms_with_one_click_without_signing_in(
    alice, concord_client, django_capture_on_commit_callbacks
):
    run_on(ANNIVERSARY - timedelta(days=30), django_capture_on_commit_callbacks)
    link = link_in(mail.outbox[0])
    with time_machine.travel(ANNIVERSARY - timedelta(days=20), tick=False):
        page = concord_client.get(link)
        assert page.status_code == 200
        assert "77 Union St S, Concord, NC 28025" in page.content.decode()
        response = concord_client.post(link)
    assert response.status_code == 200
    assert "your registration is confirmed" in response.content.decode()
    assert participant().confirmed_at == ANNIVERSARY - timedelta(days=20)
    # A new year starts: no reminder on the old anniversary.
    run_on(ANNIVERSARY, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_opening_the_link_confirms_nothing(
    alice, concord_client, django_capture_on_commit_callbacks
):
    """Mail scanners open links: only the page's button (a POST) confirms."""
    run_on(ANNIVERSARY - timedelta(days=30), django_capture_on_commit_callbacks)
    link = link_in(mail.outbox[0])
    for _scan in range(2):
        page = concord_client.get(link)
        assert page.status_code == 200
        assert "Confirm my cameras are still active" in page.content.decode()
    assert participant().confirmed_at == REGISTERED
    assert concord_client.head(link).status_code == 200
    assert participant().confirmed_at == REGISTERED


def test_the_button_needs_the_pages_csrf_token(
    alice, host_client, django_capture_on_commit_callbacks
):
    from django.test import Client

    run_on(ANNIVERSARY - timedelta(days=30), django_capture_on_commit_callbacks)
    client = Client(HTTP_HOST="concord.localhost", enforce_csrf_checks=True)
    link = link_in(mail.outbox[0])
    assert client.post(link).status_code == 403
    assert participant().confirmed_at == REGISTERED
    page = client.get(link).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert client.post(link, {"csrfmiddlewaretoken": csrf}).status_code == 200
    assert participant().confirmed_at != REGISTERED


def test_the_page_is_in_spanish(make_resident, site_data, host_client):
    maria = make_resident("concord", email="maria@example.org", language="es")
    with time_machine.travel(REGISTERED, tick=False):
        maria.client.post("/register/", site_data())
    with schema_context("concord"):
        token = verification_token(Participant.objects.get(user__email="maria@example.org"))
    client = host_client("concord.localhost")
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    page = client.get(f"/verify/{token}/").content.decode()
    assert "¿Siguen activas sus cámaras y desea seguir participando?" in page
    assert "Confirmar que mis cámaras siguen activas" in page


def test_a_reused_link_is_refused_clearly(
    alice, concord_client, django_capture_on_commit_callbacks
):
    run_on(ANNIVERSARY - timedelta(days=30), django_capture_on_commit_callbacks)
    link = link_in(mail.outbox[0])
    assert concord_client.post(link).status_code == 200
    confirmed_at = participant().confirmed_at
    for method in (concord_client.post, concord_client.get):
        response = method(link)
        assert response.status_code == 410
        assert "This link has already been used." in response.content.decode()
    assert participant().confirmed_at == confirmed_at


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "abc", lambda t: "x" + t, lambda t: "junk"])
def test_a_tampered_link_is_refused(alice, concord_client, mangle):
    token = verification_token(participant())
    for method in (concord_client.get, concord_client.post):
        response = method(f"/verify/{mangle(token)}/")
        assert response.status_code == 400
        assert "This link is not valid." in response.content.decode()
    assert participant().confirmed_at == REGISTERED


def test_an_expired_link_says_so(alice, concord_client):
    with time_machine.travel(REGISTERED, tick=False):
        token = verification_token(participant())
    with time_machine.travel(REGISTERED + timedelta(days=201), tick=False):
        response = concord_client.post(f"/verify/{token}/")
    assert response.status_code == 410
    assert "This link has expired." in response.content.decode()
    assert participant().confirmed_at == REGISTERED


def test_a_reminder_follows_on_the_anniversary_once(alice, django_capture_on_commit_callbacks):
    for day in (ANNIVERSARY - timedelta(days=30), ANNIVERSARY, ANNIVERSARY + timedelta(days=1)):
        run_on(day, django_capture_on_commit_callbacks)
    assert [message.subject.split(":")[0] for message in mail.outbox] == [
        "Please confirm your camera registration with Concord Community Camera Registry",
        "Reminder",
    ]


def test_an_unconfirmed_registration_lapses_after_the_grace_period(
    alice, django_capture_on_commit_callbacks
):
    run_on(ANNIVERSARY + timedelta(days=29), django_capture_on_commit_callbacks)
    assert participant().status == Participant.Status.ACTIVE
    run_on(ANNIVERSARY + timedelta(days=30), django_capture_on_commit_callbacks)
    assert participant().status == Participant.Status.LAPSED
    with schema_context("concord"):
        assert Site.objects.count() == 1
        assert not Site.objects.searchable().exists()
    assert mail.outbox[-1].subject.endswith("has lapsed")
    page = alice.client.get("/my/").content.decode()
    assert "Your registration lapsed on" in page


def test_a_lapsed_registration_is_confirmed_again_by_its_owner(
    alice, django_capture_on_commit_callbacks
):
    run_on(ANNIVERSARY + timedelta(days=30), django_capture_on_commit_callbacks)
    alice.client.post("/my/confirm/")
    assert participant().status == Participant.Status.ACTIVE
    with schema_context("concord"):
        assert Site.objects.searchable().exists()


def test_a_lapsed_registration_is_purged_after_the_citys_period(
    alice, django_capture_on_commit_callbacks
):
    lapse_day = ANNIVERSARY + timedelta(days=30)
    run_on(lapse_day, django_capture_on_commit_callbacks)
    run_on(lapse_day + timedelta(days=89), django_capture_on_commit_callbacks)
    with schema_context("concord"):
        assert Site.objects.count() == 1
    run_on(lapse_day + timedelta(days=90), django_capture_on_commit_callbacks)
    with schema_context("concord"):
        assert Site.objects.count() == 0
        assert Camera.objects.count() == 0
    assert participant().status == Participant.Status.PURGED
    run_on(lapse_day + timedelta(days=91), django_capture_on_commit_callbacks)
    assert participant().status == Participant.Status.PURGED


def test_the_purge_period_is_the_citys_own(alice, django_capture_on_commit_callbacks):
    from tenants.models import Program

    Program.objects.filter(department__schema_name="concord").update(purge_after_days=10)
    lapse_day = ANNIVERSARY + timedelta(days=30)
    run_on(lapse_day, django_capture_on_commit_callbacks)
    run_on(lapse_day + timedelta(days=10), django_capture_on_commit_callbacks)
    assert participant().status == Participant.Status.PURGED


def test_a_link_after_the_purge_says_so(alice, concord_client, django_capture_on_commit_callbacks):
    token = verification_token(participant())
    run_on(ANNIVERSARY + timedelta(days=30), django_capture_on_commit_callbacks)
    run_on(ANNIVERSARY + timedelta(days=120), django_capture_on_commit_callbacks)
    for method in (concord_client.get, concord_client.post):
        response = method(f"/verify/{token}/")
        assert response.status_code == 410
        assert "removed after it lapsed" in response.content.decode()
    assert participant().status == Participant.Status.PURGED


def test_running_twice_a_day_sends_nothing_twice(alice, django_capture_on_commit_callbacks):
    day = ANNIVERSARY - timedelta(days=30)
    run_on(day, django_capture_on_commit_callbacks)
    run_on(day + timedelta(hours=1), django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1


def test_every_city_is_verified_separately(
    alice, make_resident, site_data, django_capture_on_commit_callbacks
):
    bob = make_resident("carrollton", email="bob@example.org")
    with time_machine.travel(REGISTERED + timedelta(days=100), tick=False):
        bob.client.post("/register/", site_data(latitude="33.58", longitude="-85.07"))
    run_on(ANNIVERSARY + timedelta(days=30), django_capture_on_commit_callbacks)
    assert participant().status == Participant.Status.LAPSED
    with schema_context("carrollton"):
        assert Participant.objects.get().status == Participant.Status.ACTIVE


def test_an_account_without_a_site_is_not_asked_to_confirm(
    make_resident, django_capture_on_commit_callbacks
):
    with time_machine.travel(REGISTERED, tick=False):
        make_resident("concord", email="idle@example.org")
    run_on(ANNIVERSARY + timedelta(days=200), django_capture_on_commit_callbacks)
    assert mail.outbox == []
    with schema_context("concord"):
        assert Participant.objects.get().status == Participant.Status.ACTIVE
