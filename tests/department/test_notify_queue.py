"""The notification goes through a real queue: Celery on Redis, a worker in this process.

Data must be committed for the worker's own connection to see it, so this test does not run in
a transaction; it removes what it made."""

from __future__ import annotations

import os
import socket
import time

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from portal.department.models import Incident, Notification, NotificationRecipient
from tests.conftest import assert_test_database

REDIS = ("127.0.0.1", 6379)


def redis_available() -> bool:
    try:
        socket.create_connection(REDIS, timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def worker(django_db_setup, django_db_blocker):
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
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        yield app
    app.close()
    app.amqp._producer_pool = None
    app.conf.update(task_always_eager=True, broker_url="memory://")


def test_notices_are_sent_by_a_worker_through_redis(worker, django_db_blocker):
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from portal.department.tasks import notify_area
    from portal.registry.services import participant_create, site_register
    from tenants.models import Department

    department = Department.objects.select_related("program").get(schema_name="concord")
    with django_db_blocker.unblock(), tenant_context(department):
        assert_test_database()
        users = []
        try:
            for number in range(3):
                email = f"queue{number}@queue.example.org"
                user = get_user_model().objects.create_user(username=email, email=email)
                users.append(user)
                EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
                site_register(
                    participant=participant_create(user=user),
                    program=department.program,
                    site={
                        "kind": "home",
                        "address": f"{number} Queue St",
                        "latitude": 35.4088,
                        "longitude": -80.5795,
                        "contact_name": "Q",
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
            incident = Incident.objects.create(
                kind="crime",
                case_number="Q-1",
                latitude=35.4088,
                longitude=-80.5795,
                starts_at=timezone.now(),
                ends_at=timezone.now(),
                radius_m=100,
                opened_by=users[0],
            )
            notification = Notification.objects.create(
                incident=incident, message="Check", radius_m=100, created_by=users[0]
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
        finally:
            NotificationRecipient.objects.filter(notification__incident__case_number="Q-1").delete()
            Notification.objects.filter(incident__case_number="Q-1").delete()
            Incident.objects.filter(case_number="Q-1").delete()
            get_user_model().objects.filter(email__endswith="@queue.example.org").delete()
            from django.db import connections

            connections.close_all()
    with django_db_blocker.unblock(), schema_context("concord"):
        assert not Incident.objects.filter(case_number="Q-1").exists()
