"""A notice's copies are claimed in batches (portal.department.tasks.copies_claim): one run's
batch is never claimed by another, a send the mail server refuses in the middle of a batch
records the emails of the batch already sent and releases exactly the others, and two cities
whose notices and copies have the same ids never touch each other's copies."""

from __future__ import annotations

import smtplib
import threading
import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from portal.department import tasks
from portal.department.models import Incident, Notification, NotificationRecipient
from portal.department.tasks import (
    DatabaseLost,
    MailNotTaken,
    claim_size,
    copies_claim,
    copies_settle,
    notify_area,
    notify_area_run,
)
from portal.registry.models import Participant
from tests.conftest import assert_test_database
from tests.department.test_notify_delivery import (
    Flaky,
    area_notice,
    emails_per_owner,
    register_owners,
)

OWNERS = [f"batch{number}@batches.example.org" for number in range(12)]


def notice_with_copies(
    owners: list[str], *, case: str, first_id: int | None = None
) -> Notification:
    """In the current schema: an area notice with one copy made for each of `owners` (no
    sites: the copies are made directly, as a run would), the copies' ids from `first_id` on
    when given, the notice's too."""
    user_model = get_user_model()
    users = [user_model.objects.create_user(username=email, email=email) for email in owners]
    incident = Incident.objects.create(
        kind="crime",
        case_number=case,
        latitude=35.4088,
        longitude=-80.5795,
        starts_at=timezone.now(),
        ends_at=timezone.now(),
        radius_m=100,
        opened_by=users[0],
    )
    notification = Notification.objects.create(
        pk=first_id, incident=incident, message="Check.", radius_m=100, created_by=users[0]
    )
    NotificationRecipient.objects.bulk_create(
        NotificationRecipient(
            pk=None if first_id is None else first_id + number,
            notification=notification,
            participant=Participant.objects.create(user=user),
        )
        for number, user in enumerate(users)
    )
    return notification


def test_a_batch_claimed_by_one_run_is_not_claimed_by_another(django_db_setup, django_db_blocker):
    """Run A's claim, not yet committed, holds its copies: run B's claim at the same moment
    takes the following ones without waiting for A (SKIP LOCKED); once A commits, a third claim
    takes neither's; releasing A's claim touches only A's copies. Committed data and a second
    connection (a thread), as two workers."""
    from tenants.models import Department

    with django_db_blocker.unblock():
        department = Department.objects.get(schema_name="concord")
    with django_db_blocker.unblock(), tenant_context(department):
        assert_test_database()
        try:
            notification = notice_with_copies(OWNERS, case="BATCH-1")
            claims = {run: uuid.uuid4() for run in "ABC"}
            batches: dict[str, list[int]] = {}
            a_holds, b_claimed = threading.Event(), threading.Event()
            a_committed_before_b = []
            errors: list[BaseException] = []

            def run_a() -> None:
                try:
                    with tenant_context(department), transaction.atomic():
                        batch = copies_claim(notification, claim=claims["A"], after=0, size=4)
                        batches["A"] = [claimed.pk for claimed in batch]
                        a_holds.set()
                        if not b_claimed.wait(timeout=10):
                            a_committed_before_b.append(True)
                except BaseException as error:
                    errors.append(error)
                finally:
                    connection.close()

            thread = threading.Thread(target=run_a)
            thread.start()
            assert a_holds.wait(timeout=30)
            batch = copies_claim(notification, claim=claims["B"], after=0, size=4)
            batches["B"] = [claimed.pk for claimed in batch]
            b_claimed.set()
            thread.join(timeout=30)
            assert errors == [] and a_committed_before_b == []
            batches["C"] = [
                claimed.pk
                for claimed in copies_claim(notification, claim=claims["C"], after=0, size=4)
            ]
            copies = NotificationRecipient.objects.filter(notification=notification)
            ids = sorted(copies.values_list("pk", flat=True))
            assert batches == {"A": ids[:4], "B": ids[4:8], "C": ids[8:]}
            for run, claim in claims.items():
                assert (
                    sorted(copies.filter(claim=claim).values_list("pk", flat=True))
                    == (batches[run])
                )
            # A's retry releases A's copies and nothing else.
            copies_settle(notification.pk, {"sent": [], "claim": str(claims["A"]), "doubt": []})
            unclaimed = copies.filter(claimed_at__isnull=True, claim__isnull=True)
            assert sorted(unclaimed.values_list("pk", flat=True)) == batches["A"]
            assert copies.filter(claimed_at__isnull=False).count() == 8
        finally:
            NotificationRecipient.objects.filter(
                notification__incident__case_number="BATCH-1"
            ).delete()
            Notification.objects.filter(incident__case_number="BATCH-1").delete()
            Incident.objects.filter(case_number="BATCH-1").delete()
            Participant.objects.filter(user__email__endswith="@batches.example.org").delete()
            get_user_model().objects.filter(email__endswith="@batches.example.org").delete()
            connection.close()
    with django_db_blocker.unblock(), schema_context("concord"):
        assert not Incident.objects.filter(case_number="BATCH-1").exists()


class RefusesTheFifth(Flaky):
    """Flaky, refusing the fifth email; what is claimed and not recorded as sent at that moment
    is noted (`in_flight`, owners' addresses)."""

    in_flight: set[str] = set()

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        if Flaky.count + 1 == self.fail_at:
            RefusesTheFifth.in_flight = set(
                NotificationRecipient.objects.filter(
                    claimed_at__isnull=False, sent_at__isnull=True
                ).values_list("participant__user__email", flat=True)
            )
        return super().send_messages(messages)


@pytest.mark.django_db
def test_a_send_refused_midway_through_a_batch_releases_exactly_the_copies_not_emailed(settings):
    from tenants.models import Department

    settings.EMAIL_BACKEND = "tests.department.test_notify_batches.RefusesTheFifth"
    Flaky.count, Flaky.fail_at, Flaky.taken_then_killed = 0, 5, False
    mail.outbox = []
    assert claim_size(len(OWNERS)) == 3
    department = Department.objects.select_related("program").get(schema_name="concord")
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS, case="BATCH-2"))
        with pytest.raises(smtplib.SMTPDataError):
            notify_area(notification.pk)
        emailed = [message.to[0] for message in mail.outbox]
        assert len(emailed) == 4
        copies = NotificationRecipient.objects.filter(notification=notification)
        by_owner = {
            copy.participant.user.email: copy for copy in copies.select_related("participant__user")
        }
        # The second batch was in flight at the refusal: its emailed copy, the refused one and
        # the one after it.
        second_batch = sorted(by_owner, key=lambda email: by_owner[email].pk)[3:6]
        assert RefusesTheFifth.in_flight == set(second_batch)
        # Afterwards: what was emailed is recorded as sent, the rest claimable again; nothing
        # in "delivery unknown".
        assert {email for email, copy in by_owner.items() if copy.sent_at} == set(emailed)
        assert all(
            copy.claimed_at is None and copy.claim is None
            for email, copy in by_owner.items()
            if email not in emailed
        )
        assert copies.filter(claimed_at__isnull=False, sent_at__isnull=True).count() == 0
        assert notify_area(notification.pk) == len(OWNERS) - 4
    assert emails_per_owner() == Counter(OWNERS)


class TakesNotTheThird(EmailBackend):
    """A backend that reports the third email as not sent (0) without raising."""

    count = 0

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        TakesNotTheThird.count += 1
        if TakesNotTheThird.count == 3:
            return 0
        return super().send_messages(messages)


@pytest.mark.django_db
def test_an_email_the_backend_did_not_send_is_released_not_recorded_as_sent(settings):
    from tenants.models import Department

    settings.EMAIL_BACKEND = "tests.department.test_notify_batches.TakesNotTheThird"
    TakesNotTheThird.count = 0
    mail.outbox = []
    department = Department.objects.select_related("program").get(schema_name="concord")
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS, case="BATCH-3"))
        with pytest.raises(MailNotTaken):
            notify_area(notification.pk)
        copies = NotificationRecipient.objects.filter(notification=notification)
        assert copies.filter(sent_at__isnull=False).count() == 2
        assert copies.filter(claimed_at__isnull=False, sent_at__isnull=True).count() == 0
        assert notify_area(notification.pk) == len(OWNERS) - 2
    assert emails_per_owner() == Counter(OWNERS)


@pytest.mark.django_db
def test_two_cities_with_the_same_notice_and_copy_ids_do_not_touch_each_others_copies(
    monkeypatch: pytest.MonkeyPatch,
):
    """Concord and Carrollton (a schema each) each have notice 900001 with copies 900001 to
    900012: both runs are cut off by the database in the middle of a batch, then both retried,
    each settling in its own city; every owner of both cities gets exactly one email."""
    from tenants.models import Department

    cities = {
        schema: Department.objects.select_related("program").get(schema_name=schema)
        for schema in ("concord", "carrollton")
    }
    owners = {schema: [f"{schema}{n}@collide.example.org" for n in range(12)] for schema in cities}
    notices: dict[str, int] = {}
    for schema, department in cities.items():
        with tenant_context(department):
            notices[schema] = notice_with_copies(owners[schema], case="COLLIDE", first_id=900001).pk
    assert notices == {"concord": 900001, "carrollton": 900001}
    mail.outbox = []
    real = tasks.answer_token
    calls = {"n": 0}

    def answer_token(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] % 5 == 0:  # the second copy of each run's second batch of three
            raise OperationalError("terminating connection due to administrator command")
        return real(*args)

    unsettled = {}
    monkeypatch.setattr(tasks, "answer_token", answer_token)
    for schema, department in cities.items():
        calls["n"] = 0
        with tenant_context(department), pytest.raises(DatabaseLost) as lost:
            notify_area_run(900001, joining=True, size=3)
        unsettled[schema] = lost.value.unsettled
        assert len(unsettled[schema]["sent"]) == 1  # type: ignore[arg-type]
    # The same copy ids emailed and not recorded in both cities.
    assert unsettled["concord"]["sent"] == unsettled["carrollton"]["sent"]
    monkeypatch.undo()
    for schema in ("carrollton", "concord"):
        with tenant_context(cities[schema]):
            assert notify_area(900001, unsettled=unsettled[schema], joining=True, size=3) == 8
    for department in cities.values():
        with tenant_context(department):
            copies = NotificationRecipient.objects.filter(notification_id=900001)
            assert copies.count() == 12
            assert copies.filter(sent_at__isnull=True).count() == 0
    assert emails_per_owner() == Counter(owners["concord"] + owners["carrollton"])
