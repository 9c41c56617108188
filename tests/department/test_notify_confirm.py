"""An area notice is confirmed before it goes: the confirmation says how many owners it will
contact, owners already contacted about the case (asked, notified, answered) are not contacted
again, and the confirmation sent twice (a double click) sends once."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from portal.department.models import Notification, NotificationRecipient
from portal.registry.models import AuditEntry, Participant, Site
from tests.conftest import site_post_data
from tests.department.test_notify import incident, link, neighbourhood  # noqa: F401

pytestmark = pytest.mark.django_db


def ask(investigator, case, message: str = "Please check."):
    """The incident page's notice form: answered with the confirmation page."""
    return investigator.client.post(
        f"/department/incidents/{case.pk}/notify/", {"message": message}
    )


def confirm(investigator, case, page: str, capture):
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    message = re.search(r'name="message" value="([^"]*)"', page).group(1)
    with capture(execute=True):
        return investigator.client.post(
            f"/department/incidents/{case.pk}/notify/",
            {"message": message, "key": key},
            follow=True,
        )


def test_the_confirmation_says_how_many_owners_and_sends_nothing_yet(
    neighbourhood,  # noqa: F811
    incident,  # noqa: F811
):
    investigator, case = incident
    mail.outbox.clear()
    response = ask(investigator, case)
    assert response.status_code == 200
    page = response.content.decode()
    # Alice (two sites, one owner) and Bob; Carol is far away, Dan paused.
    assert "2 owners will be contacted." in page
    assert "Send to 2 owners" in page
    assert "Please check." in page
    assert mail.outbox == []
    with schema_context("concord"):
        assert not Notification.objects.exists()
        assert not AuditEntry.objects.filter(action="notify").exists()


def test_owners_who_answered_or_were_asked_are_not_contacted_again(
    neighbourhood,  # noqa: F811
    incident,  # noqa: F811
    concord_client,
    django_capture_on_commit_callbacks,
):
    investigator, case = incident
    page = ask(investigator, case).content.decode()
    confirm(investigator, case, page, django_capture_on_commit_callbacks)
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.org", "bob@example.org"]
    alice_link = link(next(m for m in mail.outbox if m.to == ["alice@example.org"]))
    concord_client.post(alice_link, {"answer": "has_footage"})

    # A newcomer registers in the area after the first notice.
    with schema_context("concord"):
        bob = Participant.objects.get(user__email="bob@example.org")
        alice = Participant.objects.get(user__email="alice@example.org")
    neighbourhood["carol"].client.post(
        "/register/", site_post_data(address="82 Union St S", latitude="35.4081")
    )
    mail.outbox.clear()
    second = ask(investigator, case, "Second call.").content.decode()
    assert "1 owner will be contacted." in second
    assert "2 owners in the area are left out" in second
    confirm(investigator, case, second, django_capture_on_commit_callbacks)
    # Only the newcomer: Alice answered, Bob was notified already.
    assert [m.to for m in mail.outbox] == [["carol@example.org"]]
    with schema_context("concord"):
        latest = Notification.objects.order_by("-pk").first()
        addressed = set(latest.recipients.values_list("participant_id", flat=True))
        assert alice.pk not in addressed and bob.pk not in addressed
        assert NotificationRecipient.objects.filter(participant=alice).count() == 1


def test_an_owner_asked_for_footage_is_not_notified_again(
    neighbourhood,  # noqa: F811
    incident,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    investigator, case = incident
    with schema_context("concord"):
        bobs = Site.objects.get(address="80 Union St S")
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{case.pk}/sites/{bobs.pk}/request/", {"message": ""}
        )
    mail.outbox.clear()
    page = ask(investigator, case).content.decode()
    assert "1 owner will be contacted." in page
    assert "1 owner in the area is left out" in page
    confirm(investigator, case, page, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]


def test_the_confirmation_sent_twice_sends_once(
    neighbourhood,  # noqa: F811
    incident,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    investigator, case = incident
    page = ask(investigator, case).content.decode()
    mail.outbox.clear()
    first = confirm(investigator, case, page, django_capture_on_commit_callbacks)
    # On its way, or queued for the broker (here the commit's callbacks run after the view).
    assert "already sent" not in first.content.decode()
    second = confirm(investigator, case, page, django_capture_on_commit_callbacks)
    assert "This notice was already sent" in second.content.decode()
    assert len(mail.outbox) == 2  # Alice and Bob, once each
    with schema_context("concord"):
        assert Notification.objects.count() == 1
        assert AuditEntry.objects.filter(action="notify").count() == 1


def test_a_confirmation_key_of_another_incident_sends_nothing(
    neighbourhood,  # noqa: F811
    incident,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    investigator, case = incident
    page = ask(investigator, case).content.decode()
    confirm(investigator, case, page, django_capture_on_commit_callbacks)
    with schema_context("concord"):
        other = Notification.objects.get().incident
        other.pk = None
        other.case_number = "CPD-78"
        other.save()
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    response = investigator.client.post(
        f"/department/incidents/{other.pk}/notify/", {"message": "", "key": key}
    )
    assert response.status_code == 403
    with schema_context("concord"):
        assert Notification.objects.count() == 1


@pytest.mark.parametrize("key", ["short", "has spaces in it here", "x" * 65, "<script>alert(1)"])
def test_a_malformed_key_is_refused_with_a_message(
    neighbourhood,  # noqa: F811
    incident,  # noqa: F811
    key,
):
    investigator, case = incident
    response = investigator.client.post(
        f"/department/incidents/{case.pk}/notify/", {"message": "", "key": key}, follow=True
    )
    assert "This confirmation is not valid; ask again." in response.content.decode()
    with schema_context("concord"):
        assert not Notification.objects.exists()


def test_nobody_left_to_contact_offers_no_send_button(
    neighbourhood,  # noqa: F811
    incident,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    investigator, case = incident
    confirm(
        investigator,
        case,
        ask(investigator, case).content.decode(),
        django_capture_on_commit_callbacks,
    )
    page = ask(investigator, case).content.decode()
    assert "Nobody would be contacted" in page
    assert 'name="key"' not in page
