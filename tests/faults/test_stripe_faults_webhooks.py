"""Issue 16, point 4 (Stripe unavailable or slow), the webhook half: a Stripe event that
arrives while the database is down is answered non-2xx, so Stripe delivers it again, and that
retry is applied exactly once. For real: gunicorn as deployed, serving a private copy of the
test database (tests/faults/harness.py) whose PostgreSQL server is stopped and started; the
event signed with the Stripe SDK's own helper, as Stripe signs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest

from tests.billing.conftest import WEBHOOK_PATH, WEBHOOK_SECRET, signed
from tests.faults.harness import (
    ROOT,
    Answer,
    CanvassProcess,
    PrivatePostgres,
    canvass_environment,
    get,
    wait_until,
)
from tests.faults.test_stripe_faults import figure


def seed_paid_subscription(environment: dict[str, str], out: Path) -> dict[str, Any]:
    """A paid subscription in the private copy, written by Canvass's own services in a
    process of its own (tests.faults.stripe_world), and the failed renewal's event."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.stripe_world", str(out)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return dict(json.loads(out.read_text()))


def deliver(web: CanvassProcess, event: dict[str, Any]) -> Answer:
    """One delivery of the event as Stripe makes it (signed now: a retry is signed anew)."""
    body, header = signed(event)
    try:
        return get(
            web.url(WEBHOOK_PATH),
            host="localhost",
            data=body.encode(),
            headers={"Content-Type": "application/json", "Stripe-Signature": header},
            timeout=30,
        )
    except (TimeoutError, urllib.error.URLError) as error:
        # Stripe counts a delivery it gets no answer to as failed, and delivers it again.
        return Answer(0, f"no answer: {error}", {})


def effects(database: PrivatePostgres, subscription: int, event_id: str) -> dict[str, int]:
    """What applying the failed-payment event leaves behind, counted in the database."""

    def count(sql: str, *parameters: object) -> int:
        return int(database.query(sql, list(parameters))[0][0])  # type: ignore[call-overload]

    return {
        "event_recorded": count(
            "SELECT count(*) FROM billing_webhookevent WHERE stripe_event_id = %s", event_id
        ),
        "history_payment_failed": count(
            "SELECT count(*) FROM billing_subscriptionevent "
            "WHERE subscription_id = %s AND kind = 'payment_failed'",
            subscription,
        ),
        "alert_payment_failed": count(
            "SELECT count(*) FROM billing_alert WHERE subscription_id = %s "
            "AND kind = 'payment_failed'",
            subscription,
        ),
        "in_grace": count(
            "SELECT count(*) FROM billing_subscription WHERE id = %s AND grace_until IS NOT NULL",
            subscription,
        ),
    }


def test_a_webhook_during_a_database_outage_is_refused_and_its_retry_applied_once(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> None:
    # Not pytest's tmp_path: as root, the server runs as another user that must traverse the
    # directory's parents, and every pytest session on the machine resets
    # /tmp/pytest-of-root to 0700 when it starts (a restart of the server then fails).
    tmp_path = Path(tempfile.mkdtemp(prefix="canvass-stripe-faults-"))
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        copy = PrivatePostgres.copy_of_test_database(tmp_path / "pg")
        database = copy.__enter__()
    try:
        environment = canvass_environment(database, STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET)
        world = seed_paid_subscription(environment, tmp_path / "world.json")
        subscription, event = world["subscription"], world["event"]
        assert event["type"] == "invoice.payment_failed"
        nothing = {
            "event_recorded": 0,
            "history_payment_failed": 0,
            "alert_payment_failed": 0,
            "in_grace": 0,
        }
        assert effects(database, subscription, event["id"]) == nothing
        with CanvassProcess.gunicorn(environment, tmp_path / "web.log") as web:
            database.stop()
            during = deliver(web, event)
            # Stripe retries any answer that is not 2xx (or none); never a stack trace.
            assert not 200 <= during.status < 300, (during, web.output()[-3000:])
            assert "Traceback" not in during.body
            database.start()
            restarted = time.monotonic()
            assert effects(database, subscription, event["id"]) == nothing
            # Stripe's retries, until one is answered 2xx (the first after the restart may
            # meet a connection the outage broke; gunicorn is never restarted).
            retries: list[int] = []

            def retried() -> bool:
                retries.append(deliver(web, event).status)
                return 200 <= retries[-1] < 300

            wait_until(retried, timeout=60, step=0.5, what=f"webhook accepted ({retries})")
            accepted_after = time.monotonic() - restarted
            once = {
                "event_recorded": 1,
                "history_payment_failed": 1,
                "alert_payment_failed": 1,
                "in_grace": 1,
            }
            assert effects(database, subscription, event["id"]) == once
            # A third delivery (Stripe does send duplicates): acknowledged, nothing applied.
            again = deliver(web, event)
            assert again.status == 200, again
            assert effects(database, subscription, event["id"]) == once
            figure(
                "webhook_database_outage",
                {
                    "status_during_outage": during.status,
                    "retry_after": during.headers.get("Retry-After"),
                    "deliveries_after_restart_until_2xx": len(retries),
                    "statuses_after_restart": retries,
                    "seconds_from_database_up_to_applied": round(accepted_after, 2),
                    "third_delivery_status": again.status,
                    "effects_after_three_deliveries": effects(database, subscription, event["id"]),
                },
            )
    finally:
        copy.__exit__(None, None, None)
        shutil.rmtree(tmp_path, ignore_errors=True)
