"""The area notice's settling of a run cut off by the database (portal.department.tasks), for
the cases the real restart in test_database_restart.py cannot pick: the statement that records
a batch's emails and claims the next batch fails before it runs, or commits and its answer is
lost; copies claimed whose emails were never sent, in the middle of a batch; an email the
backend was handing over when the database went. The retry, given what the cut-off run knew
(as JSON, the way a task's keyword argument travels), leaves every owner emailed exactly once
and every copy recorded as sent, but the one in doubt."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend
from django.db import OperationalError
from django_tenants.utils import tenant_context

from portal.department import tasks
from portal.department.models import NotificationRecipient
from portal.department.tasks import DatabaseLost, claim_size, notify_area, notify_area_run
from tests.department.test_notify_delivery import area_notice, emails_per_owner, register_owners

OWNERS = [f"settle{number}@faults.example.org" for number in range(12)]
# Five owners: one copy a claim (fewer owners than runs), as before claims came in batches;
# twelve: three a claim.
SIZES = {5: 1, 12: 3}


def cut_off_at(monkeypatch: pytest.MonkeyPatch, call: int, *, committed: bool) -> None:
    """The `call`-th copies_claim of the run fails as a database going away would: before the
    statement runs, or after it committed (the answer lost on the way)."""
    real = tasks.copies_claim
    calls = {"n": 0}

    def copies_claim(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call:
            if committed:
                real(*args, **kwargs)
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "copies_claim", copies_claim)


def retried(unsettled: tasks.Unsettled) -> tasks.Unsettled:
    """What the retry receives: the task's keyword argument through the broker's JSON."""
    return json.loads(json.dumps(unsettled))


@pytest.mark.django_db
@pytest.mark.parametrize("owners", sorted(SIZES))
@pytest.mark.parametrize("committed", [False, True])
def test_a_run_cut_off_while_recording_a_batch_is_settled_by_the_retry(
    monkeypatch: pytest.MonkeyPatch, committed: bool, owners: int
) -> None:
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    mail.outbox = []
    assert claim_size(owners) == SIZES[owners]
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS[:owners], case="SETTLE-1"))
        cut_off_at(monkeypatch, 3, committed=committed)
        with pytest.raises(DatabaseLost) as lost:
            notify_area_run(notification.pk)
        emailed = 2 * SIZES[owners]  # two batches; the third claim cut off
        assert len(mail.outbox) == emailed
        assert len(lost.value.unsettled["sent"]) == SIZES[owners]  # type: ignore[arg-type]
        monkeypatch.undo()
        assert notify_area(notification.pk, unsettled=retried(lost.value.unsettled)) == (
            owners - emailed
        )
        copies = NotificationRecipient.objects.filter(notification=notification)
        assert copies.filter(sent_at__isnull=True).count() == 0
    assert emails_per_owner() == Counter(OWNERS[:owners])


@pytest.mark.django_db
@pytest.mark.parametrize("owners", sorted(SIZES))
def test_copies_claimed_and_not_emailed_are_released_for_the_retry(
    monkeypatch: pytest.MonkeyPatch, owners: int
) -> None:
    """Cut off between the second copy's claim and its email: with batches of three, one copy
    of the batch emailed, the one being filled in and the next never emailed."""
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    mail.outbox = []
    real = tasks.answer_token
    calls = {"n": 0}

    def answer_token(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OperationalError("terminating connection due to administrator command")
        return real(*args)

    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS[:owners], case="SETTLE-2"))
        monkeypatch.setattr(tasks, "answer_token", answer_token)
        with pytest.raises(DatabaseLost) as lost:
            notify_area_run(notification.pk)
        assert len(mail.outbox) == 1
        copies = NotificationRecipient.objects.filter(notification=notification)
        # The batch's emailed copy recorded by nobody yet; the claim named by its token.
        assert lost.value.unsettled["sent"] == (
            []
            if SIZES[owners] == 1
            else [copies.get(participant__user__email=mail.outbox[0].to[0]).pk]
        )
        claim = lost.value.unsettled["claim"]
        assert copies.filter(claim=claim, sent_at__isnull=True).count() == SIZES[owners]
        monkeypatch.undo()
        assert notify_area(notification.pk, unsettled=retried(lost.value.unsettled)) == owners - 1
        assert copies.filter(sent_at__isnull=True).count() == 0
    assert emails_per_owner() == Counter(OWNERS[:owners])


class WritesDownThenLosesTheDatabase(EmailBackend):
    """A backend that writes down what it sent: the fifth email goes out, then the database
    stops answering before the backend returns."""

    count = 0

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        sent = super().send_messages(messages)
        WritesDownThenLosesTheDatabase.count += sent
        if WritesDownThenLosesTheDatabase.count == 5:
            raise OperationalError("server closed the connection unexpectedly")
        return sent


@pytest.mark.django_db
def test_an_email_handed_over_when_the_database_went_stays_in_doubt_and_the_rest_is_sent(
    settings: Any,
) -> None:
    from tenants.models import Department

    settings.EMAIL_BACKEND = (
        "tests.faults.test_database_restart_settle.WritesDownThenLosesTheDatabase"
    )
    WritesDownThenLosesTheDatabase.count = 0
    department = Department.objects.select_related("program").get(schema_name="concord")
    mail.outbox = []
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS, case="SETTLE-4"))
        with pytest.raises(DatabaseLost) as lost:
            notify_area_run(notification.pk)
        in_doubt = lost.value.unsettled["doubt"]
        assert len(in_doubt) == 1 and len(mail.outbox) == 5
        assert notify_area(notification.pk, unsettled=retried(lost.value.unsettled)) == 7
        copies = NotificationRecipient.objects.filter(notification=notification)
        # Left "delivery unknown" (claimed, not recorded as sent): never emailed twice.
        unknown = copies.filter(claimed_at__isnull=False, sent_at__isnull=True)
        assert list(unknown.values_list("pk", flat=True)) == in_doubt
        assert copies.filter(sent_at__isnull=False).count() == len(OWNERS) - 1
    assert emails_per_owner() == Counter(OWNERS)


@pytest.mark.django_db
def test_two_copies_claimed_at_the_same_instant_are_left_claimed_not_sent_twice() -> None:
    """A retry queued before claims came in batches (its `claimed_at`, no claim token): two
    runs at once may claim at the same microsecond, and the retry of one cannot tell its unsent
    copy from the other run's, perhaps emailed, so it releases neither."""
    from django.utils import timezone

    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    mail.outbox = []
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS[:5], case="SETTLE-3"))
        tasks.notification_copies_make(notification)
        copies = NotificationRecipient.objects.filter(notification=notification)
        instant = timezone.now()
        both = list(copies.order_by("pk").values_list("pk", flat=True)[:2])
        copies.filter(pk__in=both).update(claimed_at=instant)
        unsettled: tasks.Unsettled = {"sent": None, "claimed_at": instant.isoformat()}
        assert notify_area(notification.pk, unsettled=unsettled) == 5 - 2
        left = copies.filter(sent_at__isnull=True)
        assert sorted(left.values_list("pk", flat=True)) == both
        assert all(left.values_list("claimed_at", flat=True))
        unknown = set(left.values_list("participant__user__email", flat=True))
    assert emails_per_owner() == Counter(set(OWNERS[:5]) - unknown)


@pytest.mark.django_db
def test_a_retry_queued_before_batches_still_records_its_email_and_releases_its_copy() -> None:
    """The shape of a run queued by the code before batches: one copy emailed (`sent`, an id)
    and the time of the claim of the next one, never emailed (`claimed_at`)."""
    from django.utils import timezone

    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    mail.outbox = []
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS[:5], case="SETTLE-5"))
        tasks.notification_copies_make(notification)
        copies = NotificationRecipient.objects.filter(notification=notification)
        emailed, claimed = copies.order_by("pk").values_list("pk", flat=True)[:2]
        instant = timezone.now()
        copies.filter(pk=emailed).update(claimed_at=instant - timezone.timedelta(seconds=1))
        copies.filter(pk=claimed).update(claimed_at=instant)
        unsettled = {"sent": emailed, "claimed_at": instant.isoformat()}
        assert notify_area(notification.pk, unsettled=unsettled) == 5 - 1
        assert copies.filter(sent_at__isnull=True).count() == 0
        unemailed = list(
            copies.exclude(pk=emailed).values_list("participant__user__email", flat=True)
        )
    assert emails_per_owner() == Counter(unemailed)
