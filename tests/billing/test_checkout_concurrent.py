"""An owner double-clicks "Pay": two requests for the same site's Checkout at once, on two
connections, committed. The second waits for the first (the owner's row is locked) and hands out
the same Checkout: one subscription row, one session at Stripe, both answered with its URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.fake_stripe import FakeStripe
from billing.models import Customer, DevicePlan, PlanOffer, Subscription
from portal.registry.models import Site
from portal.registry.services import participant_create
from tests.billing.plans import HUB_4, plan_make, plan_sync, plans_offer
from tests.conftest import assert_test_database

EMAIL = "double-click@checkout.example.org"


@dataclass(frozen=True)
class Buyer:
    client_for: object
    site_id: int
    plan_id: int


@pytest.fixture
def buyer(django_db_setup, fake_stripe, django_db_blocker) -> Iterator[Buyer]:
    """A Little Rock owner with a site, and a plan Little Rock offers, all committed."""
    with django_db_blocker.unblock():
        assert_test_database()
        plan = plan_sync(plan_make({**HUB_4, "slug": "hub-double-click"}))
        plans_offer("littlerock", plan)
        with schema_context("littlerock"):
            user = get_user_model().objects.create_user(username=EMAIL, email=EMAIL)
            EmailAddress.objects.create(user=user, email=EMAIL, primary=True, verified=True)
            participant = participant_create(user=user, language="en")
            site = Site.objects.create(
                participant=participant,
                kind="business",
                address="1 Double Click Ln, Little Rock, AR",
                latitude=34.7465,
                longitude=-92.2896,
                contact_name="Dee",
                contact_method="email",
                contact_email=EMAIL,
                terms_version=1,
                terms_accepted_at=timezone.now(),
            )

        def client_for() -> Client:
            client = Client(HTTP_HOST="littlerock.localhost")
            with schema_context("littlerock"):
                client.force_login(user)
            return client

        try:
            yield Buyer(client_for, site.pk, plan.pk)
        finally:
            Subscription.objects.filter(plan=plan).delete()
            Customer.objects.filter(department__schema_name="littlerock", email=EMAIL).delete()
            PlanOffer.objects.filter(plan=plan).delete()
            DevicePlan.objects.filter(pk=plan.pk).delete()
            with schema_context("littlerock"):
                get_user_model().objects.filter(email=EMAIL).delete()
            connections.close_all()


def test_a_double_clicked_pay_button_makes_one_checkout(
    buyer, fake_stripe: FakeStripe, django_db_blocker
):
    clients = [buyer.client_for(), buyer.client_for()]
    fake_stripe.latency = 0.3  # Stripe takes its time: the two requests overlap
    start = threading.Barrier(2)
    answers: list[tuple[int, str]] = []

    def pay(client: Client) -> None:
        try:
            start.wait()
            response = client.post(
                f"/my/sites/{buyer.site_id}/integrate/", {"plan": str(buyer.plan_id)}
            )
            answers.append((response.status_code, response.get("Location", "")))
        finally:
            connections.close_all()

    with django_db_blocker.unblock():
        threads = [threading.Thread(target=pay, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        subscription = Subscription.objects.get(
            department__schema_name="littlerock", site_id=buyer.site_id
        )
        assert sorted(answers) == [(303, subscription.checkout_url)] * 2
        sessions = fake_stripe.calls("post", "/v1/checkout/sessions")
        assert [session["metadata"]["subscription"] for session in sessions] == [
            str(subscription.pk)
        ]
