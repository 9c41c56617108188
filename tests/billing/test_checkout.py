"""An owner buys an integration device from their city's portal: the plans the city offers, the
Stripe Checkout that follows (subscription mode, the device once and the yearly fee), and every
way it can be refused, each with a clear answer and nothing half-written."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import Customer, DevicePlan, Subscription
from portal.registry.audit import Actor
from portal.registry.models import Site
from portal.registry.services import site_integration_set
from tenants.models import Department
from tests.billing.plans import plan_make, plan_sync, plans_offer

pytestmark = pytest.mark.django_db

LITTLE_ROCK = {
    "address": "500 President Clinton Ave, Little Rock, AR 72201",
    "latitude": "34.7465",
    "longitude": "-92.2896",
}


@pytest.fixture
def owner(make_resident, site_data):
    """Alice, with one registered site in Little Rock."""
    alice = make_resident("littlerock")
    assert alice.client.post("/register/", site_data(**LITTLE_ROCK)).status_code == 302
    return alice


def site_of(resident) -> Site:
    with schema_context(resident.schema_name):
        return Site.objects.get(participant__user__email=resident.email)


def sessions(fake) -> list[dict]:
    return fake.calls("post", "/v1/checkout/sessions")


def test_the_page_lists_the_offered_plans_in_the_citys_order_with_prices(owner, checkout_plans):
    site = site_of(owner)
    page = owner.client.get(f"/my/sites/{site.pk}/integrate/").content.decode()
    assert page.index("Hub 16") < page.index("Hub 4")
    assert "$1,800.00 for the device, once, then $600.00 a year" in page
    assert "$350.00 for the device, once, then $150.00 a year" in page
    assert "Sixteen cameras, a month of video, and search by time and motion." in page
    assert "4000 GB" in page
    assert "Every time police open your video it is recorded" in page
    assert "police lose access at once" in page


def test_the_page_speaks_spanish_to_a_spanish_speaking_owner(owner, checkout_plans):
    owner.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    site = site_of(owner)
    page = owner.client.get(f"/my/sites/{site.pk}/integrate/").content.decode()
    assert "Dieciséis cámaras, un mes de video y búsqueda por hora y movimiento." in page
    assert "Lo que integrar significa para su control" in page
    assert "Pagar con Stripe" in page


def test_choosing_a_plan_sends_the_owner_to_stripe_checkout(owner, checkout_plans, fake_stripe):
    hub_4, _hub_16 = checkout_plans
    site = site_of(owner)
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": hub_4.pk})
    assert response.status_code == 303
    assert response["Location"].startswith("https://checkout.stripe.com/c/pay/cs_test_")

    [params] = sessions(fake_stripe)
    subscription = Subscription.objects.get()
    participant = owner.participant
    metadata = {
        "department": "littlerock",
        "site": str(site.pk),
        "participant": str(participant.pk),
        "subscription": str(subscription.pk),
    }
    assert params["mode"] == "subscription"
    assert params["line_items"] == [
        {"price": hub_4.stripe_device_price_id, "quantity": "1"},
        {"price": hub_4.stripe_yearly_price_id, "quantity": "1"},
    ]
    assert params["metadata"] == metadata
    assert params["subscription_data"]["metadata"] == metadata
    assert params["locale"] == "en"
    assert urlsplit(params["success_url"]).hostname == "littlerock.localhost"
    assert urlsplit(params["cancel_url"]).path == f"/my/sites/{site.pk}/integrate/cancelled/"
    # The customer exists before the session, and the map names its city.
    customer = Customer.objects.get()
    assert params["customer"] == customer.stripe_customer_id
    assert customer.department.schema_name == "littlerock"
    assert customer.participant_id == participant.pk
    [customer_params] = fake_stripe.calls("post", "/v1/customers")
    assert customer_params["email"] == "alice@example.org"
    assert customer_params["metadata"] == {
        "department": "littlerock",
        "participant": str(participant.pk),
    }
    assert subscription.status == Subscription.Status.CHECKOUT
    assert subscription.site_address == LITTLE_ROCK["address"]
    assert (subscription.yearly_amount, subscription.currency) == (15_000, "usd")
    assert response["Location"] == subscription.checkout_url
    # Nothing is integrated on the redirect: that waits for the paid invoice.
    assert not subscription.entitled
    assert site_of(owner).participation == Site.Participation.REGISTERED


def test_checkout_is_in_spanish_for_a_spanish_speaking_owner(owner, checkout_plans, fake_stripe):
    owner.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    site = site_of(owner)
    owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[1].pk})
    [params] = sessions(fake_stripe)
    assert params["locale"] == "es"
    assert params["success_url"].endswith("?lang=es")
    assert fake_stripe.calls("post", "/v1/customers")[0]["preferred_locales"] == ["es"]


def test_a_double_submitted_form_makes_one_session(owner, checkout_plans, fake_stripe):
    site = site_of(owner)
    first = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    second = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    assert second.status_code == 303
    assert second["Location"] == first["Location"]
    assert len(sessions(fake_stripe)) == 1
    assert Subscription.objects.count() == 1
    assert Customer.objects.count() == 1


def test_an_expired_checkout_is_replaced_by_a_new_one(owner, checkout_plans, fake_stripe):
    site = site_of(owner)
    first = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    old = Subscription.objects.get()
    fake_stripe.objects[old.checkout_session_id]["status"] = "expired"
    Subscription.objects.filter(pk=old.pk).update(checkout_expires_at="2020-01-01T00:00Z")
    second = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    assert second.status_code == 303
    assert second["Location"] != first["Location"]
    old.refresh_from_db()
    assert old.status == Subscription.Status.INCOMPLETE_EXPIRED
    assert Subscription.objects.exclude(status__in=Subscription.ENDED_STATUSES).count() == 1
    # The same owner stays one Stripe customer.
    assert len(fake_stripe.calls("post", "/v1/customers")) == 1


def test_someone_elses_site_is_not_found(owner, make_resident, site_data, checkout_plans):
    bob = make_resident("littlerock", email="bob@example.org")
    site = site_of(owner)
    assert bob.client.get(f"/my/sites/{site.pk}/integrate/").status_code == 404
    response = bob.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    assert response.status_code == 404
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("plan", ["not offered", "abc", "", "99999999"])
def test_a_plan_the_city_does_not_offer_is_refused(owner, checkout_plans, fake_stripe, plan):
    if plan == "not offered":
        plan = plan_sync(plan_make({**PLAN_ELSEWHERE})).pk
    site = site_of(owner)
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": plan})
    assert response.status_code == 400
    assert "This department does not offer that device plan." in response.content.decode()
    assert not Subscription.objects.exists()
    assert not Customer.objects.exists()
    assert sessions(fake_stripe) == []


PLAN_ELSEWHERE = {
    "slug": "hub-1",
    "name": "Hub 1",
    "cameras_supported": 1,
    "storage_gb": 64,
    "device_price": 20_000,
    "yearly_price": 9_000,
    "description_en": "One camera.",
    "description_es": "Una cámara.",
}


def test_a_plan_not_yet_in_stripe_cannot_be_bought(owner, checkout_plans, fake_stripe):
    unsynced = plan_make(PLAN_ELSEWHERE)
    plans_offer("littlerock", unsynced)
    site = site_of(owner)
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": unsynced.pk})
    assert response.status_code == 400
    assert "This plan is not available for purchase yet." in response.content.decode()
    assert not Subscription.objects.exists()


def test_a_site_already_integrated_cannot_buy_again(owner, checkout_plans, fake_stripe):
    site = site_of(owner)
    with schema_context("littlerock"):
        site_integration_set(site=site, integrated=True, actor=Actor.system("test"), reason="t")
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    assert response.status_code == 400
    assert "This site is already integrated" in response.content.decode()
    assert sessions(fake_stripe) == []


def test_a_site_with_a_live_subscription_cannot_buy_again(owner, checkout_plans, fake_stripe):
    site = site_of(owner)
    owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    Subscription.objects.update(status=Subscription.Status.ACTIVE)
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[1].pk})
    assert response.status_code == 400
    assert "This site is already integrated" in response.content.decode()
    assert len(sessions(fake_stripe)) == 1


@pytest.mark.parametrize("how", ["timeout", "server"])
def test_stripe_unreachable_says_try_again_and_writes_nothing(
    owner, checkout_plans, fake_stripe, how
):
    site = site_of(owner)
    fake_stripe.fail_next(how)
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    assert response.status_code == 503
    assert "The payment service did not answer. Nothing was charged" in response.content.decode()
    assert not Subscription.objects.exists()
    assert not Customer.objects.exists()


def test_stripe_failing_at_the_session_leaves_no_row(owner, checkout_plans, fake_stripe):
    site = site_of(owner)
    # The customer is made at Stripe, then the session's request times out: all rolls back.
    fake_stripe.fail_next("timeout", on="/v1/checkout/sessions")
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    assert response.status_code == 503
    assert len(fake_stripe.calls("post", "/v1/customers")) == 1
    assert not Subscription.objects.exists()
    assert not Customer.objects.exists()
    # Trying again reuses that Stripe customer (the same idempotency key) and succeeds.
    again = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    assert again.status_code == 303
    customers = [o["id"] for o in fake_stripe.objects.values() if o["object"] == "customer"]
    assert customers == [Customer.objects.get().stripe_customer_id]
    assert Subscription.objects.get().checkout_url == again["Location"]


def test_a_refusal_from_stripe_is_shown(owner, checkout_plans, fake_stripe):
    site = site_of(owner)
    fake_stripe.fail_next("declined")
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    assert response.status_code == 502
    assert "The payment service refused the request: Your card was declined." in (
        response.content.decode()
    )
    assert not Subscription.objects.exists()


def test_without_stripe_keys_the_page_says_payments_are_not_configured(owner, settings):
    settings.STRIPE_SECRET_KEY = ""
    plan = plan_make(PLAN_ELSEWHERE)
    plan.stripe_device_price_id, plan.stripe_yearly_price_id = "price_a", "price_b"
    plan.save()
    plans_offer("littlerock", plan)
    site = site_of(owner)
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": plan.pk})
    assert response.status_code == 503
    page = response.content.decode()
    assert "Payments are not configured on this installation." in page
    assert "Nothing was charged and your site stays registered." in page
    assert not Subscription.objects.exists()


def test_without_stripe_keys_an_unsynced_plan_still_says_payments_are_off(owner, settings):
    """The demo: no keys, so no plan was ever synced to Stripe; the owner is told payments are
    not configured here (before choosing, and after), not that the plan is unavailable."""
    settings.STRIPE_SECRET_KEY = ""
    plans_offer("littlerock", plan_make(PLAN_ELSEWHERE))
    site = site_of(owner)
    page = owner.client.get(f"/my/sites/{site.pk}/integrate/").content.decode()
    assert "Payments are not configured on this installation: you can compare" in page
    plan = DevicePlan.objects.get(slug=PLAN_ELSEWHERE["slug"])
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": plan.pk})
    assert response.status_code == 503
    assert "Payments are not configured on this installation." in response.content.decode()
    assert not Subscription.objects.exists()


def test_concord_offers_no_devices_and_says_so(make_resident, site_data, checkout_plans):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    site = site_of(alice)
    manage = alice.client.get("/my/").content.decode()
    assert "This department registers cameras only: it offers no integration devices." in manage
    assert "Integrate" not in manage
    page = alice.client.get(f"/my/sites/{site.pk}/integrate/").content.decode()
    assert "it offers no integration devices" in page
    assert "Pay with Stripe" not in page
    response = alice.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_a_site_id_in_two_cities_refers_to_the_hosts_city_only(
    owner, make_resident, site_data, checkout_plans, fake_stripe
):
    """Concord's site N and Little Rock's site N are different sites: from Little Rock's host,
    site N is Little Rock's, and a Concord-only id is not found."""
    site = site_of(owner)
    concord_owner = make_resident("concord", email="bob@example.org")
    with schema_context("concord"):
        Site.objects.create(
            pk=site.pk,
            participant=concord_owner.participant,
            address="77 Union St S, Concord, NC 28025",
            latitude=35.408,
            longitude=-80.581,
            contact_name="Bob",
            contact_email="bob@example.org",
            terms_version=1,
            terms_accepted_at=timezone.now(),
        )
        concord_only = Site.objects.create(
            pk=site.pk + 100_000,
            participant=concord_owner.participant,
            address="1 Church St, Concord, NC 28025",
            latitude=35.408,
            longitude=-80.581,
            contact_name="Bob",
            contact_email="bob@example.org",
            terms_version=1,
            terms_accepted_at=timezone.now(),
        )
    response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk})
    assert response.status_code == 303
    subscription = Subscription.objects.get()
    assert subscription.department == Department.objects.get(schema_name="littlerock")
    assert subscription.site_address == LITTLE_ROCK["address"]
    assert sessions(fake_stripe)[0]["metadata"]["department"] == "littlerock"
    missing = owner.client.post(
        f"/my/sites/{concord_only.pk}/integrate/", {"plan": checkout_plans[0].pk}
    )
    assert missing.status_code == 404
    assert Subscription.objects.count() == 1
    # Concord's owner of site N, on Concord's host, finds no plan offered there.
    refused = concord_owner.client.post(
        f"/my/sites/{site.pk}/integrate/", {"plan": checkout_plans[0].pk}
    )
    assert refused.status_code == 400
    assert Subscription.objects.count() == 1


def test_the_success_page_waits_for_the_payment_in_the_owners_language(
    owner, checkout_plans, fake_stripe
):
    site = site_of(owner)
    english = owner.client.get(f"/my/sites/{site.pk}/integrate/paid/?lang=en").content.decode()
    assert "starts when Stripe confirms your payment" in english
    spanish = owner.client.get(f"/my/sites/{site.pk}/integrate/paid/?lang=es").content.decode()
    assert '<html lang="es">' in spanish
    assert "comienza cuando Stripe confirme su pago" in spanish
    assert site_of(owner).participation == Site.Participation.REGISTERED


def test_the_cancel_page_says_nothing_was_charged(owner):
    site = site_of(owner)
    page = owner.client.get(f"/my/sites/{site.pk}/integrate/cancelled/?lang=es").content.decode()
    assert "No se cobró nada" in page


def test_the_return_pages_are_the_owners_only(owner, make_resident):
    bob = make_resident("littlerock", email="bob@example.org")
    site = site_of(owner)
    assert bob.client.get(f"/my/sites/{site.pk}/integrate/paid/").status_code == 404
    assert bob.client.get(f"/my/sites/{site.pk}/integrate/cancelled/").status_code == 404


def test_the_pages_with_forms_to_stripe_let_only_those_forms_leave_for_stripe(
    owner, checkout_plans
):
    """form-action 'self' would stop the browser at the redirect to Stripe (the browser test
    found it); only the pages whose forms go there allow Stripe's host, and only it."""
    site = site_of(owner)
    integrate = owner.client.get(f"/my/sites/{site.pk}/integrate/")["Content-Security-Policy"]
    assert "form-action 'self' https://checkout.stripe.com" in integrate
    manage = owner.client.get("/my/")["Content-Security-Policy"]
    assert "form-action 'self' https://billing.stripe.com" in manage
    assert "stripe" not in owner.client.get(f"/my/sites/{site.pk}/")["Content-Security-Policy"]
