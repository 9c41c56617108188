"""A notice reaches each owner at most once: two workers running the same job at the same time
share the owners out, and a run that stops midway (the mail server refuses, or the worker dies
after the server took an email) is finished by the retry without a second email to anyone."""

from __future__ import annotations

import contextlib
import smtplib
import threading
from collections import Counter
from collections.abc import Sequence

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from portal.department.models import Incident, Notification, NotificationRecipient
from portal.department.tasks import notify_area
from portal.registry.models import Participant
from tests.conftest import assert_test_database

OWNERS = [f"owner{number}@delivery.example.org" for number in range(6)]
CASE = "DELIVERY-1"


class Rendezvous(EmailBackend):
    """Each connection's first send waits until another connection sends too: two runs that
    would both send the same owners are made to do it at the same time."""

    barrier = threading.Barrier(2)

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        if not getattr(self, "met", False):
            self.met = True
            with contextlib.suppress(threading.BrokenBarrierError):
                self.barrier.wait(timeout=30)
        return super().send_messages(messages)


class WorkerKilled(BaseException):
    """A worker process ending abruptly: nothing in the job gets to handle it."""


class Flaky(EmailBackend):
    """The `fail_at`-th email (counting from 1, over every connection) fails: refused by the
    server before it takes it, or taken and then the worker dies."""

    fail_at = 0
    taken_then_killed = False
    count = 0

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        for message in messages:
            Flaky.count += 1
            if Flaky.count == self.fail_at and not self.taken_then_killed:
                raise smtplib.SMTPDataError(451, b"Try again later")
            super().send_messages([message])
            if Flaky.count == self.fail_at:
                raise WorkerKilled
        return len(messages)


def register_owners(department, emails: list[str], case: str = CASE) -> Incident:
    """Owners within 100 m of an incident, and the incident; committed when outside a test
    transaction."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from portal.registry.services import participant_create, site_register

    for number, email in enumerate(emails):
        user = get_user_model().objects.create_user(username=email, email=email)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        site_register(
            participant=participant_create(user=user),
            program=department.program,
            site={
                "kind": "home",
                "address": f"{number} Delivery St",
                "latitude": 35.4088,
                "longitude": -80.5795,
                "contact_name": "D",
                "contact_phone": "",
                "contact_email": email,
                "contact_method": "email",
                "contact_hours": "",
            },
            cameras=[
                {
                    "label": "c",
                    "direction": 0,
                    "sees": ["street"],
                    "mount": "wall",
                    "recording": "motion",
                    "retention_days": 7,
                    "night_vision": False,
                }
            ],
            language="en",
        )
    return Incident.objects.create(
        kind="crime",
        case_number=case,
        latitude=35.4088,
        longitude=-80.5795,
        starts_at=timezone.now(),
        ends_at=timezone.now(),
        radius_m=100,
        opened_by=get_user_model().objects.get(email=emails[0]),
    )


def area_notice(incident: Incident) -> Notification:
    return Notification.objects.create(
        incident=incident, message="Check.", radius_m=100, created_by=incident.opened_by
    )


def emails_per_owner() -> Counter[str]:
    return Counter(address for message in mail.outbox for address in message.to)


def test_two_workers_running_the_same_notice_at_once_email_each_owner_once(
    django_db_setup, django_db_blocker, settings
):
    """Committed data and two threads, each with its own database connection, as two Celery
    workers would run a task delivered twice."""
    from django.contrib.auth import get_user_model

    from tenants.models import Department

    settings.EMAIL_BACKEND = "tests.department.test_notify_delivery.Rendezvous"
    Rendezvous.barrier = threading.Barrier(2)
    with django_db_blocker.unblock():
        department = Department.objects.select_related("program").get(schema_name="concord")
    with django_db_blocker.unblock(), tenant_context(department):
        assert_test_database()
        try:
            notification = area_notice(register_owners(department, OWNERS))
            mail.outbox = []
            sent: list[int] = []
            errors: list[BaseException] = []

            def worker() -> None:
                try:
                    with tenant_context(department):
                        sent.append(notify_area(notification.pk))
                except BaseException as error:
                    errors.append(error)
                finally:
                    connection.close()

            threads = [threading.Thread(target=worker) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert errors == []
            assert emails_per_owner() == Counter(OWNERS)
            # Both runs really sent (they met at the rendezvous), and together sent each once.
            assert sorted(sent)[0] >= 1 and sum(sent) == len(OWNERS)
            copies = NotificationRecipient.objects.filter(notification=notification)
            assert copies.filter(sent_at__isnull=False).count() == len(OWNERS)
        finally:
            NotificationRecipient.objects.filter(notification__incident__case_number=CASE).delete()
            Notification.objects.filter(incident__case_number=CASE).delete()
            Incident.objects.filter(case_number=CASE).delete()
            get_user_model().objects.filter(email__endswith="@delivery.example.org").delete()
    with django_db_blocker.unblock(), schema_context("concord"):
        assert not Incident.objects.filter(case_number=CASE).exists()


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.department.test_notify_delivery.Flaky"
    Flaky.count, Flaky.fail_at, Flaky.taken_then_killed = 0, 3, False
    mail.outbox = []
    return Flaky


@pytest.mark.django_db
def test_a_run_the_mail_server_stops_midway_is_finished_by_the_retry(flaky):
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS))
        with pytest.raises(smtplib.SMTPDataError):
            notify_area(notification.pk)
        assert len(mail.outbox) == 2
        assert notify_area(notification.pk) == len(OWNERS) - 2
        assert notify_area(notification.pk) == 0
        copies = NotificationRecipient.objects.filter(notification=notification)
        assert copies.filter(sent_at__isnull=False).count() == len(OWNERS)
    assert emails_per_owner() == Counter(OWNERS)


@pytest.mark.django_db
def test_a_worker_killed_after_the_server_took_an_email_never_sends_it_again(flaky, make_staff):
    from tenants.models import Department

    flaky.taken_then_killed = True
    department = Department.objects.select_related("program").get(schema_name="concord")
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS))
        with pytest.raises(WorkerKilled):
            notify_area(notification.pk)
        assert len(mail.outbox) == 3
        assert notify_area(notification.pk) == len(OWNERS) - 3
        unknown = NotificationRecipient.objects.get(
            notification=notification, claimed_at__isnull=False, sent_at__isnull=True
        )
        assert unknown.participant.user.email == mail.outbox[2].to[0]
    assert emails_per_owner() == Counter(OWNERS)
    investigator = make_staff("concord", "investigator")
    page = investigator.client.get(f"/department/incidents/{notification.incident_id}/")
    text = page.content.decode()
    assert "sent to 5 owners;" in text
    assert "Delivery to 1 owner is unknown" in text


@pytest.mark.django_db
def test_the_retry_leaves_out_an_owner_who_lapsed_in_between(flaky):
    from tenants.models import Department

    flaky.fail_at = 1
    department = Department.objects.select_related("program").get(schema_name="concord")
    with tenant_context(department):
        notification = area_notice(register_owners(department, OWNERS[:2]))
        with pytest.raises(smtplib.SMTPDataError):
            notify_area(notification.pk)
        Participant.objects.filter(user__email=OWNERS[1]).update(status=Participant.Status.LAPSED)
        assert notify_area(notification.pk) == 1
    assert emails_per_owner() == Counter(OWNERS[:1])
