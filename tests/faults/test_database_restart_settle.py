"""The area notice's settling of a run cut off by the database (portal.department.tasks), for
the cases the real restart in test_database_restart.py cannot pick: the statement that records
an email and claims the next copy fails before it runs, or commits and its answer is lost;
and a copy claimed whose email was never sent. The retry, given what the cut-off run knew,
leaves every owner emailed exactly once and every copy recorded as sent."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.core import mail
from django.db import OperationalError
from django_tenants.utils import tenant_context

from portal.department import tasks
from portal.department.models import NotificationRecipient
from portal.department.tasks import DatabaseLost, notify_area, notify_area_run
from tests.department.test_notify_delivery import area_notice, emails_per_owner, register_owners

OWNERS = [f"settle{number}@faults.example.org" for number in range(5)]


def cut_off_at(monkeypatch: pytest.MonkeyPatch, call: int, *, committed: bool) -> None:
    """The `call`-th copy_next of the run fails as a database going away would: before the
    statement runs, or after it committed (the answer lost on the way)."""
    real = tasks.copy_next
    calls = {"n": 0}

    def copy_next(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == call:
            if committed:
                real(*args, **kwargs)
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(tasks, "copy_next", copy_next)


@pytest.mark.django_db
@pytest.mark.parametrize("committed", [False, True])
def test_a_run_cut_off_while_recording_an_email_is_settled_by_the_retry(
    monkeypatch: pytest.MonkeyPatch, committed: bool
) -> None:
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    mail.outbox = []
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS, case="SETTLE-1"))
        cut_off_at(monkeypatch, 3, committed=committed)
        with pytest.raises(DatabaseLost) as lost:
            notify_area_run(notification.pk)
        assert len(mail.outbox) == 2
        assert lost.value.unsettled["sent"] is not None
        monkeypatch.undo()
        assert notify_area(notification.pk, unsettled=lost.value.unsettled) == 3
        copies = NotificationRecipient.objects.filter(notification=notification)
        assert copies.filter(sent_at__isnull=True).count() == 0
    assert emails_per_owner() == Counter(OWNERS)


@pytest.mark.django_db
def test_a_copy_claimed_and_not_emailed_is_released_for_the_retry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    mail.outbox = []
    real = tasks.answer_token
    calls = {"n": 0}

    def answer_token(*args: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:  # between the second copy's claim and its send
            raise OperationalError("terminating connection due to administrator command")
        return real(*args)

    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS, case="SETTLE-2"))
        monkeypatch.setattr(tasks, "answer_token", answer_token)
        with pytest.raises(DatabaseLost) as lost:
            notify_area_run(notification.pk)
        assert lost.value.unsettled["sent"] is None
        assert lost.value.unsettled["claimed_at"] is not None
        monkeypatch.undo()
        assert notify_area(notification.pk, unsettled=lost.value.unsettled) == len(OWNERS) - 1
        copies = NotificationRecipient.objects.filter(notification=notification)
        assert copies.filter(sent_at__isnull=True).count() == 0
    assert emails_per_owner() == Counter(OWNERS)


@pytest.mark.django_db
def test_two_copies_claimed_at_the_same_instant_are_left_claimed_not_sent_twice() -> None:
    """Two runs at once may claim at the same microsecond: the retry of one cannot tell its
    unsent copy from the other run's, perhaps emailed, so it releases neither."""
    from django.utils import timezone

    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    mail.outbox = []
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS, case="SETTLE-3"))
        tasks.notification_copies_make(notification)
        copies = NotificationRecipient.objects.filter(notification=notification)
        instant = timezone.now()
        both = list(copies.order_by("pk").values_list("pk", flat=True)[:2])
        copies.filter(pk__in=both).update(claimed_at=instant)
        unsettled: tasks.Unsettled = {"sent": None, "claimed_at": instant.isoformat()}
        assert notify_area(notification.pk, unsettled=unsettled) == len(OWNERS) - 2
        left = copies.filter(sent_at__isnull=True)
        assert sorted(left.values_list("pk", flat=True)) == both
        assert all(left.values_list("claimed_at", flat=True))
        unknown = set(left.values_list("participant__user__email", flat=True))
    assert emails_per_owner() == Counter(set(OWNERS) - unknown)
