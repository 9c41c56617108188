"""A resident's account page: reached from the header, in English and Spanish, with links to
the sign-in email and password pages; the language and notice preferences it saves take
effect (the emails' language, the access notices' rhythm, area notices sent or not)."""

from __future__ import annotations

from secrets import token_urlsafe

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from portal.access_notices.models import NoticePreference
from portal.department.models import Incident, NotificationRecipient
from portal.registry.models import Participant
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db

PREFERENCES = {"language": "en", "access_notices": "at_once", "area_notices": "yes"}


def test_the_header_links_a_signed_in_resident_to_their_account(make_resident):
    alice = make_resident("concord")
    html = alice.client.get("/my/").content.decode()
    assert 'href="/my/account/"' in html


def test_a_staff_member_has_no_account_link_in_the_residents_header(make_staff):
    investigator = make_staff("concord", "investigator")
    html = investigator.client.get("/").content.decode()
    assert 'href="/my/account/"' not in html


def test_the_account_page_shows_the_sign_in_email_and_allauths_pages(make_resident):
    alice = make_resident("concord")
    page = alice.client.get("/my/account/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<h1>My account</h1>" in html
    assert "alice@example.org" in html
    assert 'href="/accounts/email/"' in html
    assert 'href="/accounts/password/change/"' in html
    assert 'href="/my/account/data.json"' in html and 'href="/my/account/data.csv"' in html
    # allauth's email page answers in the city's layout.
    email_page = alice.client.get("/accounts/email/").content.decode()
    assert "Concord Community Camera Registry" in email_page


def test_the_account_page_speaks_spanish(make_resident):
    alice = make_resident("concord")
    alice.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    html = alice.client.get("/my/account/").content.decode()
    assert "<h1>Mi cuenta</h1>" in html
    assert "Descargar mis datos (JSON)" in html
    assert "Avisos a la zona" in html


def test_visitors_are_sent_to_sign_in(concord_client):
    response = concord_client.get("/my/account/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_saving_spanish_makes_the_emails_spanish_and_the_page_too(make_resident):
    alice = make_resident("concord")
    response = alice.client.post("/my/account/", PREFERENCES | {"language": "es"})
    assert response.status_code == 302
    with schema_context("concord"):
        assert Participant.objects.get(user__email="alice@example.org").language == "es"
    html = alice.client.get("/my/account/").content.decode()
    assert "Se guardaron sus preferencias." in html
    assert 'lang="es"' in html


def test_a_language_the_portal_does_not_offer_is_refused(make_resident):
    alice = make_resident("carrollton")  # English only
    response = alice.client.post("/my/account/", PREFERENCES | {"language": "es"})
    assert response.status_code == 400
    assert "Choose one of the languages this portal offers." in response.content.decode()
    with schema_context("carrollton"):
        assert Participant.objects.get(user__email="alice@example.org").language == "en"


@pytest.mark.parametrize(
    "bad", [{"access_notices": "hourly"}, {"area_notices": "maybe"}, {"language": ""}]
)
def test_bad_choices_get_a_message_and_change_nothing(make_resident, bad):
    alice = make_resident("concord")
    response = alice.client.post("/my/account/", PREFERENCES | {"area_notices": "no"} | bad)
    assert response.status_code == 400
    assert 'class="error-summary"' in response.content.decode()
    with schema_context("concord"):
        assert Participant.objects.get(user__email="alice@example.org").area_notices is True


def test_the_access_notice_choice_is_the_one_access_notices_read(make_resident):
    alice = make_resident("concord")
    alice.client.post("/my/account/", PREFERENCES | {"access_notices": "weekly"})
    with schema_context("concord"):
        preference = NoticePreference.objects.get(participant__user__email="alice@example.org")
        assert preference.frequency == "weekly"
    # And the notices' own page shows the same choice.
    html = alice.client.get("/my/notices/").content.decode()
    assert 'value="weekly" id="frequency-weekly" checked' in html


@pytest.fixture
def area(make_resident, make_staff, site_data):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    bob = make_resident("concord", email="bob@example.org")
    bob.client.post("/register/", site_data(address="80 Union St S", latitude="35.4079"))
    investigator = make_staff("concord", "investigator")
    investigator.client.post(
        "/department/incidents/",
        incident_post_data(case_number="CPD-9", address="Union St S", radius_m="400"),
    )
    with schema_context("concord"):
        incident = Incident.objects.get()
    return alice, bob, investigator, incident


def test_an_owner_who_turns_area_notices_off_gets_none(area, django_capture_on_commit_callbacks):
    alice, _bob, investigator, incident = area
    alice.client.post("/my/account/", PREFERENCES | {"area_notices": "no"})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        # Sent from the confirmation page, with its one-time key.
        investigator.client.post(
            f"/department/incidents/{incident.pk}/notify/",
            {"message": "Please check.", "key": token_urlsafe()},
        )
    assert [message.to for message in mail.outbox] == [["bob@example.org"]]
    with schema_context("concord"):
        assert not NotificationRecipient.objects.filter(
            participant__user__email="alice@example.org"
        ).exists()


def test_a_footage_request_reaches_an_owner_who_turned_area_notices_off(
    area, django_capture_on_commit_callbacks
):
    alice, _bob, investigator, incident = area
    alice.client.post("/my/account/", PREFERENCES | {"area_notices": "no"})
    with schema_context("concord"):
        site = Participant.objects.get(user__email="alice@example.org").sites.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{incident.pk}/sites/{site.pk}/request/", {"message": "Please."}
        )
    assert [message.to for message in mail.outbox] == [["alice@example.org"]]


def test_the_chosen_language_is_the_one_the_departments_emails_speak(
    area, django_capture_on_commit_callbacks
):
    alice, _bob, investigator, incident = area
    alice.client.post("/my/account/", PREFERENCES | {"language": "es"})
    with schema_context("concord"):
        site = Participant.objects.get(user__email="alice@example.org").sites.get()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{incident.pk}/sites/{site.pk}/request/", {"message": "Please."}
        )
    assert [message.subject for message in mail.outbox] == [
        "Departamento de Policía de Concord: solicitud de video, caso CPD-9"
    ]
