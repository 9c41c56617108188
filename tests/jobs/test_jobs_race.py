"""Two copies of a scheduled job at once, in two departments (committed data, one thread per
copy, each with its own database connection, as two workers would be): every owner due a
yearly notice gets exactly one, whether the copies race inside the job (the participant rows are
locked and re-read) or as whole tasks (the (job, department) lock lets one run, the other is
skipped). The test removes what it made."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connections
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from portal.registry.models import Participant
from portal.registry.tasks import registry_verify, verification_run
from tenants.models import Department
from tests.billing.conftest import site_registered
from tests.conftest import assert_test_database

SCHEMAS = ("concord", "carrollton")
OWNERS = 3
DOMAIN = "race.example.org"


@pytest.fixture
def owners_due_a_notice(django_db_setup: None, django_db_blocker) -> Iterator[list[str]]:
    """Three owners per city whose registration's anniversary is 25 days away, committed."""
    with django_db_blocker.unblock():
        assert_test_database()
        emails = []
        for schema_name in SCHEMAS:
            for number in range(OWNERS):
                email = f"{schema_name}{number}@{DOMAIN}"
                site_registered(schema_name, email=email, language="en", site_pk=None)
                emails.append(email)
            with schema_context(schema_name):
                Participant.objects.filter(user__email__endswith=DOMAIN).update(
                    confirmed_at=timezone.now() - timedelta(days=340)
                )
        try:
            yield emails
        finally:
            for schema_name in SCHEMAS:
                with schema_context(schema_name):
                    Participant.objects.filter(user__email__endswith=DOMAIN).delete()
                    get_user_model().objects.filter(email__endswith=DOMAIN).delete()
            connections.close_all()


def race(copy: Callable[[str], object]) -> list[BaseException]:
    """Two copies of `copy(schema_name)` per department, all four started together."""
    start = threading.Barrier(2 * len(SCHEMAS))
    errors: list[BaseException] = []

    def run(schema_name: str) -> None:
        try:
            start.wait(10)
            copy(schema_name)
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(schema_name,))
        for schema_name in SCHEMAS
        for _copy in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def notices_sent() -> Counter[str]:
    return Counter(message.to[0] for message in mail.outbox if message.to[0].endswith(DOMAIN))


def notice_sent_marked(django_db_blocker) -> dict[str, bool]:
    with django_db_blocker.unblock():
        marked = {}
        for schema_name in SCHEMAS:
            with schema_context(schema_name):
                for email, sent in Participant.objects.filter(
                    user__email__endswith=DOMAIN
                ).values_list("user__email", "notice_sent_at"):
                    marked[email] = sent is not None
        return marked


def test_two_copies_racing_inside_the_job_send_each_notice_once(
    owners_due_a_notice: list[str], django_db_blocker
) -> None:
    mail.outbox = []

    def copy(schema_name: str) -> None:
        department = Department.objects.select_related("program").get(schema_name=schema_name)
        with tenant_context(department), department.in_time_zone():
            verification_run(department, timezone.now())

    with django_db_blocker.unblock():
        assert race(copy) == []
    assert notices_sent() == Counter({email: 1 for email in owners_due_a_notice})
    assert all(notice_sent_marked(django_db_blocker).values())


def test_two_copies_of_the_task_racing_send_each_notice_once(
    owners_due_a_notice: list[str], django_db_blocker
) -> None:
    mail.outbox = []

    def copy(schema_name: str) -> None:
        registry_verify.apply(headers={"_schema_name": schema_name}).get()

    with django_db_blocker.unblock():
        assert race(copy) == []
    assert notices_sent() == Counter({email: 1 for email in owners_due_a_notice})
    assert all(notice_sent_marked(django_db_blocker).values())
