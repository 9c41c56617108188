"""Redis down (issue 16, point 2), in-process: the cache and the broker pointed at a loopback
port nothing listens on (every connection refused, as with Redis killed), through Django's
test client. The rule for sign-ins that cannot be counted (tenants.adapters), the cache that
answers as an empty one (canvass.observability.cache), and the outbox (tenants.outbox) that
keeps an area notice requested during the outage and sends it, once, when the broker is back.
The same with real processes: tests/faults/test_redis_down.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from secrets import token_urlsafe

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import override_settings
from django_tenants.utils import schema_context

from portal.department.models import Notification, NotificationRecipient
from portal.department.tasks import notify_area
from tenants import account_lock
from tenants.cache import LimitsUnavailable
from tenants.models import OutboxMessage
from tenants.tasks import outbox_dispatch
from tests.conftest import STAFF_PASSWORD, incident_post_data
from tests.faults.harness import free_port

pytestmark = pytest.mark.django_db

REFUSED = "Sign-in for staff is briefly unavailable; try again in a few minutes."
REFUSED_ES = "El inicio de sesión del personal no está disponible por unos momentos"
QUEUED = "The notice is recorded and queued"


def redis_nowhere() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


@pytest.fixture
def cache_down() -> Iterator[None]:
    """The project's Redis cache backend, on a port that refuses every connection."""
    down = {
        "default": {
            "BACKEND": "canvass.observability.cache.RedisCache",
            "LOCATION": redis_nowhere(),
            "KEY_FUNCTION": "django_tenants.cache.make_key",
            "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with override_settings(CACHES=down):
        yield


@pytest.fixture
def broker_down(settings: pytest.FixtureRequest) -> Iterator[Callable[[], None]]:
    """Celery with a broker that refuses connections (tasks are not run in-process); the
    fixture's value brings the in-process broker back (the suite's usual eager mode)."""
    from canvass.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)

    def pools_forget() -> None:
        # Not app.close(): that also takes the app off Celery's list of active apps, and a
        # shared task imported afterwards is then never registered with it.
        app._pool = None

    def back() -> None:
        pools_forget()
        app.amqp._producer_pool = None  # a pool made by an earlier test holds its broker
        app.conf.task_always_eager, app.conf.broker_url = saved
        settings.CELERY_TASK_ALWAYS_EAGER = True  # type: ignore[attr-defined]

    pools_forget()
    app.amqp._producer_pool = None
    app.conf.task_always_eager = False
    app.conf.broker_url = redis_nowhere()
    settings.CELERY_TASK_ALWAYS_EAGER = False  # type: ignore[attr-defined]
    try:
        yield back
    finally:
        back()


def sign_in(client, email: str, password: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/accounts/login/", {"login": email, "password": password}, **headers)


# --- The cache ------------------------------------------------------------------------------


def test_the_cache_answers_as_an_empty_one_and_its_strict_twin_raises(cache_down: None) -> None:
    assert cache.get("k", "default") == "default"
    assert cache.add("k", 1) is True
    cache.set("k", 1)
    assert cache.get_many(["k"]) == {}
    assert cache.delete("k") is False
    with pytest.raises(ValueError):
        cache.incr("k")
    assert cache.get_or_set("k", 5) == 5
    from redis.exceptions import ConnectionError as RedisConnectionError

    with pytest.raises(RedisConnectionError):
        cache.strict.get("k")  # type: ignore[attr-defined]
    with pytest.raises(LimitsUnavailable):
        account_lock.lock_for("someone@example.org", "203.0.113.1")


# --- Sign-in --------------------------------------------------------------------------------


def test_a_resident_signs_in_while_redis_is_down(make_resident, host_client, cache_down) -> None:
    alice = make_resident("concord")
    client = host_client("concord.localhost")
    response = sign_in(client, alice.email, alice.password)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.get("/my/").status_code in (200, 302)
    # A wrong password is told so, uncounted (no lock can be set while Redis is down).
    assert sign_in(host_client("concord.localhost"), alice.email, "wrong").status_code == 200


@pytest.mark.parametrize("password", [STAFF_PASSWORD, "a-wrong-guess"])
def test_a_staff_sign_in_is_refused_with_a_message_before_its_password_is_checked(
    make_staff, host_client, cache_down, password
) -> None:
    staff = make_staff("concord", "investigator", signed_in=False)
    response = sign_in(host_client("concord.localhost"), staff.email, password)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()


def test_the_refusal_is_in_spanish_for_a_spanish_speaker(make_staff, host_client, cache_down):
    staff = make_staff("concord", "investigator", signed_in=False)
    client = host_client("concord.localhost")
    client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    response = sign_in(client, staff.email, STAFF_PASSWORD)
    assert response.status_code == 200
    assert REFUSED_ES in response.content.decode()


def test_an_unknown_address_gets_the_staff_refusal(host_client, cache_down) -> None:
    """So that the refusal does not tell staff accounts from addresses with no account."""
    response = sign_in(host_client("concord.localhost"), "nobody@example.org", "guess")
    assert REFUSED in response.content.decode()


def test_vendor_staff_are_refused_on_the_platform_site(platform_client, vendor, cache_down):
    response = sign_in(platform_client, vendor.email, vendor.password)
    assert response.status_code == 200
    assert REFUSED in response.content.decode()


def test_staff_sign_in_as_before_once_redis_answers(make_staff, host_client) -> None:
    staff = make_staff("concord", "investigator", signed_in=False)
    response = sign_in(host_client("concord.localhost"), staff.email, STAFF_PASSWORD)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/authenticate/")


def test_an_unlock_link_says_to_try_again_while_redis_is_down(host_client, cache_down):
    from django.contrib.auth import get_user_model

    from tenants.signing import Link, link_sign

    with schema_context("concord"):
        user = get_user_model().objects.create_user(
            username="locked@example.org", email="locked@example.org", password="x" * 20
        )
        token = link_sign(Link.ACCOUNT_UNLOCK, {"u": user.pk, "n": "a-nonce"})
    response = host_client("concord.localhost").get(f"/accounts/unlock/{token}/")
    assert response.status_code == 503
    assert "Unlocking is briefly unavailable" in response.content.decode()


# --- Area notices: the outbox ---------------------------------------------------------------


def owners_near_the_incident(make_resident, site_data, count: int) -> list[str]:
    emails = []
    for n in range(count):
        owner = make_resident("concord", email=f"owner{n}@example.org")
        owner.client.post("/register/", site_data(address=f"{n} Union St S"))
        emails.append(owner.email)
    return emails


def test_a_notice_requested_while_the_broker_is_down_is_kept_and_sent_once_when_it_is_back(
    make_resident,
    make_staff,
    site_data,
    broker_down,
    django_capture_on_commit_callbacks,
) -> None:
    owners = owners_near_the_incident(make_resident, site_data, 3)
    investigator = make_staff("concord", "investigator")
    response = investigator.client.post("/department/incidents/", incident_post_data())
    incident = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = investigator.client.post(
            f"/department/incidents/{incident}/notify/",
            {"message": "Please look.", "key": token_urlsafe()},
        )
    assert response.status_code == 302
    page = investigator.client.get(f"/department/incidents/{incident}/").content.decode()
    assert QUEUED in page
    assert "queued. The mail queue was briefly unavailable" in page
    with schema_context("concord"):
        notification = Notification.objects.get()
        assert not NotificationRecipient.objects.exists()
    message = OutboxMessage.objects.get(subject=f"notification:{notification.pk}")
    assert message.dispatched_at is None and message.attempts == 1
    assert message.last_error == "OperationalError"
    assert mail.outbox == []
    metrics = investigator.client.get("/metrics").content.decode()
    assert "canvass_outbox_undispatched 1.0" in metrics

    # The outbox job while the broker is still down: nothing handed, nothing lost.
    assert outbox_dispatch() == 0
    message.refresh_from_db()
    assert message.dispatched_at is None and message.attempts == 2

    broker_down()  # back (in-process, as in the rest of the suite)
    assert outbox_dispatch() == 1
    message.refresh_from_db()
    assert message.dispatched_at is not None
    assert sorted(email.to[0] for email in mail.outbox) == owners

    # Handed over again (a dispatcher that died before marking the row, beat catching up),
    # and the job run again by hand: nobody gets a second email.
    OutboxMessage.objects.filter(pk=message.pk).update(dispatched_at=None)
    assert outbox_dispatch() == 1
    with schema_context("concord"):
        assert notify_area(notification.pk) == 0
        assert NotificationRecipient.objects.filter(sent_at__isnull=False).count() == 3
    assert len(mail.outbox) == 3
    page = investigator.client.get(f"/department/incidents/{incident}/").content.decode()
    assert "queued. The mail queue" not in page
    assert "sent to 3 owners" in page


def test_a_notice_is_handed_to_the_broker_at_commit_when_it_answers(
    make_resident, make_staff, site_data, django_capture_on_commit_callbacks
) -> None:
    owners_near_the_incident(make_resident, site_data, 1)
    investigator = make_staff("concord", "investigator")
    response = investigator.client.post("/department/incidents/", incident_post_data())
    incident = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        investigator.client.post(
            f"/department/incidents/{incident}/notify/", {"message": "", "key": token_urlsafe()}
        )
    message = OutboxMessage.objects.get()
    assert message.dispatched_at is not None and message.attempts == 0
    assert len(mail.outbox) == 1
    # Nothing left for the outbox job.
    assert outbox_dispatch() == 0


def test_the_outbox_job_forgets_rows_dispatched_a_week_ago(settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    old = OutboxMessage.objects.create(
        schema_name="concord", task="x", dispatched_at=now - timedelta(days=8)
    )
    recent = OutboxMessage.objects.create(
        schema_name="concord", task="x", dispatched_at=now - timedelta(days=6)
    )
    outbox_dispatch()
    assert not OutboxMessage.objects.filter(pk=old.pk).exists()
    assert OutboxMessage.objects.filter(pk=recent.pk).exists()
