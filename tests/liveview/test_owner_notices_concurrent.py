"""Two runs of the notices at once (two schedulers, or a slow run overlapping the next), on two
connections, committed: the grant is claimed by one of them, and the owner gets one email."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connections
from django.utils import timezone
from django_tenants.utils import schema_context

from portal.liveview.models import Grant
from portal.liveview.owner import live_notices_send
from portal.registry.models import Camera, Site, StaffMember
from portal.registry.services import participant_create
from tests.conftest import assert_test_database

CITY = "carrollton"
OWNER = "two-runs@notices.example.org"
OFFICER = "two-runs-officer@carrollton.example.org"


@pytest.fixture
def grant_pk(django_db_setup, django_db_blocker) -> Iterator[int]:
    """A Carrollton owner's integrated camera, watched once, all committed."""
    with django_db_blocker.unblock():
        assert_test_database()
        with schema_context(CITY):
            users = get_user_model().objects
            owner = users.create_user(username=OWNER, email=OWNER)
            EmailAddress.objects.create(user=owner, email=OWNER, primary=True, verified=True)
            site = Site.objects.create(
                participant=participant_create(user=owner, language="en"),
                kind="business",
                address="1 Two Runs Rd, Carrollton, GA",
                latitude=33.5801,
                longitude=-85.0766,
                contact_name="Tess",
                contact_method="email",
                contact_email=OWNER,
                participation=Site.Participation.INTEGRATED,
                terms_version=1,
                terms_accepted_at=timezone.now(),
            )
            camera = Camera.objects.create(
                site=site,
                label="Lot",
                direction=90,
                sees=["parking"],
                mount="pole",
                recording="motion",
                retention_days=7,
            )
            staff = StaffMember.objects.create(
                user=users.create_user(username=OFFICER, email=OFFICER), role="operator"
            )
            now = timezone.now()
            grant = Grant.objects.create(
                staff=staff,
                staff_email=OFFICER,
                staff_role="operator",
                camera=camera,
                reason="active_threat",
                emergency=True,
                case_number="CAR-1",
                opened_at=now - timedelta(minutes=1),
                expires_at=now + timedelta(minutes=14),
            )
        try:
            yield grant.pk
        finally:
            with schema_context(CITY):
                Grant.objects.filter(pk=grant.pk).delete()
                Site.objects.filter(pk=site.pk).delete()
                users.filter(email__in=[OWNER, OFFICER]).delete()
            connections.close_all()


def test_two_runs_at_once_send_one_email(grant_pk, django_db_blocker):
    barrier = threading.Barrier(2)
    sent: list[int] = []

    def run() -> None:
        with django_db_blocker.unblock():
            try:
                with schema_context(CITY):
                    barrier.wait()
                    sent.append(live_notices_send())
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
        assert Grant.objects.get(pk=grant_pk).owner_notified_at is not None
