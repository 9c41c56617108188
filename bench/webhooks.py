"""Webhook throughput: signed Stripe events through the HTTP endpoint into their departments.

In a throwaway database (`test_<name>`, tenants.database.throwaway_database), three departments,
and the in-memory Stripe (billing.fake_stripe) injected in place of the network. For each of N
device subscriptions (owners and sites registered in their cities, spread over the three), the
owner pays a Checkout and Stripe's life goes on: some renewals fail, some are paid after a
failure, some payments are partly refunded or disputed, some subscriptions are cancelled, and a
few events are of types Canvass does not handle. Each event is delivered as it happens, signed
like Stripe (HMAC-SHA256 over `t.body`), to `POST /stripe/webhook/` on the platform host through
Django's test client: every event is verified, recorded, routed by its customer and handled
(subscriptions and charges fetched from the fake Stripe again), in real PostgreSQL.

Without DATABASE_URL it starts a throwaway embedded PostgreSQL in a new temporary directory
(as bench/provisioning.py).

Then every event is delivered a second time, in the same order: the effects (subscriptions,
history, invoices, devices, alerts, sites' participation and audit trails in every city, emails)
must be identical to those after the first delivery.

    .venv/bin/python bench/webhooks.py
    .venv/bin/python bench/webhooks.py --events 1000
"""

from __future__ import annotations

import argparse
import atexit
import hashlib
import hmac
import json
import os
import platform as platform_module
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "canvass.settings")

SECRET = "whsec_canvass_bench"
CITIES = [
    ("benchville", 34.7465, -92.2896),
    ("benchton", 35.408, -80.581),
    ("benchburg", 33.58, -85.08),
]


def signature(body: str) -> str:
    """The Stripe-Signature header Stripe sends (scheme v1), computed as its SDK does."""
    timestamp = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000)
    arguments = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        from canvass.embedded_db import embedded_database_urls

        parent = Path(tempfile.mkdtemp(prefix="canvass-bench-"))
        # Registered first, so it runs after the server has stopped and deleted pg/.
        atexit.register(shutil.rmtree, parent, ignore_errors=True)
        os.environ["DATABASE_URL"], os.environ["DATABASE_OWNER_URL"] = embedded_database_urls(
            parent / "pg", throwaway=True
        )

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core import mail
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django_tenants.utils import tenant_context

    from billing.catalog import catalog_sync
    from billing.checkout import checkout_start
    from billing.fake_stripe import FakeStripe
    from billing.gateway import gateway, transport_injected
    from billing.models import (
        Alert,
        DevicePlan,
        Fulfilment,
        Invoice,
        PlanOffer,
        Subscription,
        SubscriptionEvent,
        WebhookEvent,
    )
    from portal.registry.audit import Actor
    from portal.registry.models import AuditEntry, Site
    from portal.registry.services import participant_create, site_register
    from tenants.database import throwaway_database
    from tenants.services import department_provision, platform_site_ensure

    setup_test_environment(debug=False)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    settings.STRIPE_WEBHOOK_SECRET = SECRET
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    load_before = os.getloadavg()
    # A database of its own (test_<name>), created, migrated and dropped here.
    database = throwaway_database()
    database.__enter__()
    fake = FakeStripe()
    try:
        platform_site_ensure()
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            server = cursor.fetchone()[0].split(" on ")[0]
        departments = [
            department_provision(
                subdomain=subdomain,
                name=f"{subdomain.title()} Police Department",
                city=subdomain.title(),
                state="AR",
                time_zone="America/Chicago",
                display_name=f"{subdomain.title()} Registry",
                center_latitude=latitude,
                center_longitude=longitude,
                service_radius_m=20_000,
                administrator_email=f"chief@{subdomain}.example.org",
            ).department
            for subdomain, latitude, longitude in CITIES
        ]
        plan = DevicePlan.objects.create(
            slug="hub-bench",
            name="Hub 4",
            cameras_supported=4,
            storage_gb=500,
            device_price=35_000,
            yearly_price=15_000,
            description_en="Links up to four cameras.",
            description_es="Conecta hasta cuatro cámaras.",
        )
        client = Client(HTTP_HOST="localhost")
        delivered: list[dict[str, Any]] = []
        seconds = [0.0]

        def deliver(events: list[dict[str, Any]]) -> None:
            for event in events:
                body = json.dumps(event)
                started = time.perf_counter()
                response = client.post(
                    "/stripe/webhook/",
                    body,
                    content_type="application/json",
                    HTTP_STRIPE_SIGNATURE=signature(body),
                )
                seconds[0] += time.perf_counter() - started
                assert response.status_code == 200, (event["type"], response.content)
                delivered.append(event)

        with transport_injected(fake):
            stripe = gateway()
            plan = catalog_sync(plan=plan)
            for department in departments:
                PlanOffer.objects.get_or_create(department=department, plan=plan)
            number = 0
            while len(delivered) < arguments.events - 10:
                department = departments[number % len(departments)]
                email = f"owner{number}@bench.example.org"
                with tenant_context(department):
                    user = get_user_model().objects.create_user(username=email, email=email)
                    participant = participant_create(
                        user=user, language="es" if number % 3 == 0 else "en"
                    )
                    site = site_register(
                        participant=participant,
                        program=department.program,
                        site={
                            "kind": "home",
                            "address": f"{number} Bench St",
                            "latitude": department.program.center_latitude,
                            "longitude": department.program.center_longitude,
                            "contact_name": "Owner",
                            "contact_email": email,
                            "contact_method": "email",
                        },
                        cameras=[
                            {
                                "label": "Porch",
                                "direction": 90,
                                "sees": ["street"],
                                "mount": "wall",
                                "recording": "motion",
                                "retention_days": 14,
                            }
                        ],
                        language=participant.language,
                    )
                    # The owner chooses the plan: the resident checkout's own service.
                    checkout_start(
                        actor=Actor.of_participant(participant, None),
                        site=site,
                        plan=plan,
                        department=department,
                        language=participant.language,
                        success_url=department.url("/my/"),
                        cancel_url=department.url("/my/"),
                    )
                subscription = Subscription.objects.get(department=department, site_id=site.pk)
                session = {"id": subscription.checkout_session_id}
                # The owner pays, and the subscription's life goes on.
                events = fake.checkout_complete(session["id"])
                stripe_subscription = events[1]["data"]["object"]["id"]
                paid_invoice = events[3]["data"]["object"]
                deliver(events)
                if number % 5 in (0, 1):
                    deliver(fake.renewal_fails(stripe_subscription))
                if number % 5 == 1:
                    deliver(fake.renewal_paid(stripe_subscription))
                if number % 7 == 0:
                    intent = paid_invoice["payments"]["data"][0]["payment"]["payment_intent"]
                    refund = stripe.refund_create(
                        {"payment_intent": intent, "amount": 5_000},
                        idempotency_key=str(uuid.uuid4()),
                    )
                    deliver(fake.charge_refunded_event(refund["id"]))
                if number % 11 == 0:
                    deliver(fake.dispute(paid_invoice["id"]))
                if number % 6 == 0:
                    deliver(fake.subscription_ends(stripe_subscription))
                number += 1
            while len(delivered) < arguments.events:
                deliver(
                    [
                        fake.event(
                            "customer.updated",
                            fake.objects[subscription.customer.stripe_customer_id],
                        )
                    ]
                )
            once_seconds = seconds[0]
            first = list(delivered)

            def effects() -> dict[str, Any]:
                cities = {}
                for department in departments:
                    with tenant_context(department):
                        cities[department.schema_name] = (
                            list(Site.objects.order_by("pk").values_list("pk", "participation")),
                            AuditEntry.objects.count(),
                        )
                return {
                    "cities": cities,
                    "subscriptions": list(
                        Subscription.objects.order_by("pk").values_list(
                            "status",
                            "entitled",
                            "stripe_subscription_id",
                            "grace_until",
                            "ended_at",
                            "stripe_state_at",
                        )
                    ),
                    "history": SubscriptionEvent.objects.count(),
                    "invoices": list(
                        Invoice.objects.order_by("pk").values_list(
                            "status", "amount_paid", "amount_refunded", "disputed"
                        )
                    ),
                    "fulfilments": Fulfilment.objects.count(),
                    "alerts": Alert.objects.count(),
                    "events": list(
                        WebhookEvent.objects.order_by("pk").values_list(
                            "stripe_event_id", "outcome"
                        )
                    ),
                    "mail": len(mail.outbox),
                }

            before = effects()
            seconds[0] = 0.0
            delivered.clear()
            deliver(first)
            twice_seconds = seconds[0]
            after = effects()
        identical = before == after
        kinds: dict[str, int] = {}
        for event in first:
            kinds[event["type"]] = kinds.get(event["type"], 0) + 1
        outcomes = dict(
            WebhookEvent.objects.values_list("outcome").annotate(n=django.db.models.Count("pk"))
        )
        entitled = Subscription.objects.entitled().count()
        subscriptions = Subscription.objects.count()
        integrated = 0
        for department in departments:
            with tenant_context(department):
                integrated += Site.objects.filter(participation="integrated").count()
    finally:
        database.__exit__(None, None, None)

    load = os.getloadavg()
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(
        f"machine: {platform_module.machine()}, {os.cpu_count()} cores, {memory_gib:.0f} GiB, "
        f"Python {platform_module.python_version()}; {server}; load average (1, 5, 15 min) "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} at the start, "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
    )
    print(f"{len(first):,} events for {subscriptions} subscriptions in {len(CITIES)} departments:")
    for kind, count in sorted(kinds.items()):
        print(f"  {kind}: {count}")
    print(f"outcomes: {outcomes}; {entitled} entitled, {integrated} sites integrated")
    print("| delivery | events | s | events/s | ms/event |")
    print("|---|---:|---:|---:|---:|")
    for label, total in (("first", once_seconds), ("second (replays)", twice_seconds)):
        print(
            f"| {label} | {len(first):,} | {total:.2f} | {len(first) / total:.0f} | "
            f"{total * 1000 / len(first):.1f} |"
        )
    both = once_seconds + twice_seconds
    print(
        f"Every event delivered twice: {2 * len(first):,} deliveries in {both:.2f} s "
        f"({2 * len(first) / both:.0f}/s); effects after the second delivery identical to "
        f"after the first: {'yes' if identical else 'NO'}"
    )
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
