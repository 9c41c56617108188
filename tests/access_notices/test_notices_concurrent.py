"""Two runs of the notices at once (two workers, or a slow run overlapping the next), on two
connections, committed: each notice is claimed by one of them, and the owner gets one email."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connections
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.access_notices.models import AccessNotice
from portal.access_notices.services import notices_send
from portal.registry.models import AuditEntry, Site
from portal.registry.services import participant_create
from tests.conftest import assert_test_database

CITY = "carrollton"
OWNER = "two-runs@access-notices.example.org"


@pytest.fixture
def notice_pk(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A Carrollton owner's site and a pending notice of a reveal, all committed (made
    directly: audit entries, being append-only, could not be removed afterwards)."""
    with django_db_blocker.unblock():
        assert_test_database()
        with schema_context(CITY):
            users = get_user_model().objects
            user = users.create_user(username=OWNER, email=OWNER)
            EmailAddress.objects.create(user=user, email=OWNER, primary=True, verified=True)
            participant = participant_create(user=user, language="en")
            site = Site.objects.create(
                participant=participant,
                kind="home",
                address="2 Two Runs Rd, Carrollton, GA",
                latitude=33.5801,
                longitude=-85.0766,
                contact_name="Tess",
                contact_method="email",
                contact_email=OWNER,
                terms_version=1,
                terms_accepted_at=timezone.now(),
            )
            now = timezone.now()
            notice = AccessNotice.objects.create(
                audit_entry_id=10**12,
                participant=participant,
                action=AuditEntry.Action.REVEAL,
                site_id=site.pk,
                incident_id=10**12,
                case_number="CAR-2",
                category="burglary",
                accessed_at=now,
                due_at=now,
            )
        try:
            yield notice.pk
        finally:
            with schema_context(CITY):
                AccessNotice.objects.filter(pk=notice.pk).delete()
                Site.objects.filter(pk=site.pk).delete()
                users.filter(email=OWNER).delete()
            connections.close_all()


def test_two_runs_at_once_send_one_email(notice_pk, django_db_blocker):
    barrier = threading.Barrier(2)
    sent: list[int] = []

    def run() -> None:
        with django_db_blocker.unblock():
            try:
                with schema_context(CITY):
                    barrier.wait()
                    sent.append(notices_send())
            finally:
                connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(sent) == [0, 1]
    assert [message.to for message in mail.outbox] == [[OWNER]]
    with django_db_blocker.unblock(), schema_context(CITY):
        notice = AccessNotice.objects.get(pk=notice_pk)
        assert notice.status == AccessNotice.Status.SENT and notice.sent_at is not None
