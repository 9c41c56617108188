"""The notification goes through a real queue: Celery on Redis, a worker in this process.

Data must be committed for the worker's own connection to see it, so this test does not run in
a transaction; it removes what it made."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from django.core import mail
from django_tenants.utils import schema_context, tenant_context

from portal.department.models import Incident, Notification, NotificationRecipient
from tests.conftest import assert_test_database
from tests.department.test_notify_delivery import Rendezvous, register_owners

REDIS = ("127.0.0.1", 6379)


def redis_available() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def celery_worker(django_db_blocker, **pool: object) -> Iterator[object]:
    """A Celery worker on Redis in this process (start_worker's arguments in `pool`)."""
    if not redis_available():
        if os.environ.get("CI"):
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    from celery.contrib.testing.worker import start_worker

    from canvass.celery import app

    # Drop connections made to the in-memory broker by earlier tests, then point at Redis.
    app.close()
    app.amqp._producer_pool = None
    app.conf.update(
        broker_url="redis://127.0.0.1:6379/15",
        task_always_eager=False,
        broker_connection_retry_on_startup=False,
    )
    with (
        django_db_blocker.unblock(),
        start_worker(app, perform_ping_check=False, shutdown_timeout=10, **pool),
    ):
        yield app
    app.close()
    app.amqp._producer_pool = None
    app.conf.update(task_always_eager=True, broker_url="memory://")


@pytest.fixture
def published() -> Iterator[list[dict]]:
    """The keyword arguments of each notify_area task handed to the broker."""
    from celery.signals import before_task_publish

    runs: list[dict] = []

    def record(sender: str, body: tuple, **_kwargs: object) -> None:
        if sender == "portal.department.tasks.notify_area":
            runs.append(body[1])

    before_task_publish.connect(record, weak=False)
    yield runs
    before_task_publish.disconnect(record)


@pytest.fixture
def worker(django_db_setup, django_db_blocker):
    with celery_worker(django_db_blocker, pool="solo") as app:
        yield app


@pytest.fixture
def worker_of_two(django_db_setup, django_db_blocker):
    """Two processes' worth, as the deployment runs (--concurrency 2), as threads here."""
    with celery_worker(django_db_blocker, pool="threads", concurrency=2) as app:
        yield app


def test_notices_are_sent_by_a_worker_through_redis(worker, django_db_blocker, published):
    from django.contrib.auth import get_user_model

    from portal.department.tasks import notify_area
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    with django_db_blocker.unblock(), tenant_context(department):
        assert_test_database()
        try:
            emails = [f"queue{number}@queue.example.org" for number in range(3)]
            incident = register_owners(department, emails, case="Q-1")
            notification = Notification.objects.create(
                incident=incident, message="Check", radius_m=100, created_by=incident.opened_by
            )
            mail.outbox = []
            notify_area.delay(notification.pk)
            sent = NotificationRecipient.objects.filter(
                notification=notification, sent_at__isnull=False
            )
            deadline = time.monotonic() + 30
            while sent.count() < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert sorted(m.to[0] for m in mail.outbox) == [
                f"queue{number}@queue.example.org" for number in range(3)
            ]
            assert NotificationRecipient.objects.filter(sent_at__isnull=False).count() == 3
            # The run queued, and one joining run fewer than the copies (RUNS_PER_NOTICE is 4).
            assert [run.get("joining", False) for run in published] == [False, True, True]
        finally:
            NotificationRecipient.objects.filter(notification__incident__case_number="Q-1").delete()
            Notification.objects.filter(incident__case_number="Q-1").delete()
            Incident.objects.filter(case_number="Q-1").delete()
            get_user_model().objects.filter(email__endswith="@queue.example.org").delete()
            from django.db import connections

            connections.close_all()
    with django_db_blocker.unblock(), schema_context("concord"):
        assert not Incident.objects.filter(case_number="Q-1").exists()


def test_a_notice_is_shared_out_between_the_runs_it_queues(
    worker_of_two, django_db_blocker, settings, published
):
    """The run queued by the notice queues more (RUNS_PER_NOTICE); two of them send at the
    same time (they meet at the rendezvous, or it breaks after 30 s), each owner once."""
    from django.contrib.auth import get_user_model

    from portal.department.tasks import notify_area
    from tenants.models import Department

    settings.EMAIL_BACKEND = "tests.department.test_notify_delivery.Rendezvous"
    Rendezvous.barrier = threading.Barrier(2)
    department = Department.objects.select_related("program").get(schema_name="concord")
    emails = [f"share{number}@queue.example.org" for number in range(8)]
    with django_db_blocker.unblock(), tenant_context(department):
        assert_test_database()
        try:
            incident = register_owners(department, emails, case="Q-2")
            notification = Notification.objects.create(
                incident=incident, message="Check", radius_m=100, created_by=incident.opened_by
            )
            mail.outbox = []
            notify_area.delay(notification.pk)
            sent = NotificationRecipient.objects.filter(
                notification=notification, sent_at__isnull=False
            )
            deadline = time.monotonic() + 60
            while sent.count() < len(emails) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert Counter(m.to[0] for m in mail.outbox) == Counter(emails)
            assert sent.count() == len(emails)
            assert not Rendezvous.barrier.broken  # two runs sent at once
            assert [run.get("joining", False) for run in published] == [False] + [True] * 3
        finally:
            NotificationRecipient.objects.filter(notification__incident__case_number="Q-2").delete()
            Notification.objects.filter(incident__case_number="Q-2").delete()
            Incident.objects.filter(case_number="Q-2").delete()
            get_user_model().objects.filter(email__endswith="@queue.example.org").delete()
            from django.db import connections

            connections.close_all()
    with django_db_blocker.unblock(), schema_context("concord"):
        assert not Incident.objects.filter(case_number="Q-2").exists()
