"""A grant ends when the site's subscription ends (billing's entitlement_end, the only way an
integration ends), when the owner opts out, and when the owner's registration lapses or is
purged at the yearly verification: each with one LIVE_FEED_END entry, written before an
opt-out or a purge deletes the camera; the same ids in another city are left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from billing.models import DevicePlan, Subscription
from billing.services import entitlement_end
from portal.liveview.models import Grant, Sharing
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, Camera, Participant, Site
from portal.registry.services import registrations_verify, site_integration_set
from tenants.models import Department, Program
from tests.liveview.ending_fixtures import LiveWorld, live_world

pytestmark = pytest.mark.django_db


def subscription_make(world: LiveWorld) -> Subscription:
    plan, _created = DevicePlan.objects.get_or_create(
        slug="endings-hub",
        defaults={
            "name": "Hub",
            "cameras_supported": 4,
            "storage_gb": 500,
            "device_price": 35_000,
            "yearly_price": 15_000,
            "description_en": "A hub.",
            "description_es": "Un concentrador.",
        },
    )
    return Subscription.objects.create(
        department=Department.objects.get(schema_name=world.schema_name),
        site_id=world.site_pk,
        participant_id=world.participant_pk,
        site_address="1 Main St",
        plan=plan,
        status=Subscription.Status.ACTIVE,
        entitled=True,
        yearly_amount=15_000,
        currency="usd",
    )


def assert_lapsed_once(world: LiveWorld) -> None:
    (entry,) = world.live_feed_ends()
    assert str(Grant.Ended.LAPSED.label) in entry.reason
    assert entry.actor_email == world.viewer_email
    assert entry.site_id == world.site_pk
    assert entry.participant_id == world.participant_pk


def test_a_subscription_ending_ends_the_grant_and_turns_sharing_off():
    world = live_world("concord")
    other_city = live_world("carrollton")
    subscription = subscription_make(world)
    subscription_make(other_city)

    entitlement_end(subscription=subscription, reason="Grace period over.")

    assert world.grant().ended_why == Grant.Ended.LAPSED
    assert_lapsed_once(world)
    assert world.sharing_mode() == Sharing.Mode.OFF
    with schema_context("concord"):
        assert Site.objects.get(pk=world.site_pk).participation == Site.Participation.REGISTERED
    assert other_city.grant().ended_at is None
    assert other_city.sharing_mode() == Sharing.Mode.ALWAYS


def test_integration_ending_twice_records_the_end_once():
    world = live_world("concord")
    with schema_context("concord"):
        site = Site.objects.get(pk=world.site_pk)
        for _attempt in range(2):
            site_integration_set(
                site=site, integrated=False, actor=Actor.system("test"), reason="Ended."
            )
    assert len(world.live_feed_ends()) == 1


def test_integration_starting_ends_nothing():
    world = live_world("concord")
    with schema_context("concord"):
        site = Site.objects.get(pk=world.site_pk)
        Site.objects.filter(pk=site.pk).update(participation=Site.Participation.REGISTERED)
        site_integration_set(site=site, integrated=True, actor=Actor.system("test"), reason="Paid.")
    assert world.grant().ended_at is None
    assert world.sharing_mode() == Sharing.Mode.ALWAYS


def test_opting_out_ends_the_grant_before_the_camera_is_deleted():
    world = live_world("concord")
    other_city = live_world("carrollton")
    subscription_make(world)
    owner = Client(HTTP_HOST="concord.localhost")
    with schema_context("concord"):
        owner.force_login(Participant.objects.get(pk=world.participant_pk).user)

    response = owner.post("/my/leave/", {"confirm": "on"})

    assert response.status_code == 200
    with schema_context("concord"):
        assert not Site.objects.filter(pk=world.site_pk).exists()
    with schema_context("concord"):
        assert not Camera.objects.filter(pk=world.camera_pk).exists()
        assert not Grant.objects.filter(pk=world.grant_pk).exists()
    assert_lapsed_once(world)
    assert other_city.grant().ended_at is None


def test_opting_out_without_a_subscription_ends_the_grant_too():
    world = live_world("concord")
    owner = Client(HTTP_HOST="concord.localhost")
    with schema_context("concord"):
        owner.force_login(Participant.objects.get(pk=world.participant_pk).user)

    owner.post("/my/leave/", {"confirm": "on"})

    with schema_context("concord"):
        assert not Site.objects.filter(pk=world.site_pk).exists()
    assert_lapsed_once(world)


def verify(schema_name: str, now) -> None:
    department = Department.objects.get(schema_name=schema_name)
    with tenant_context(department):
        registrations_verify(program=Program.objects.get(department=department), now=now)


def test_a_registration_lapsing_at_the_yearly_verification_ends_the_grant():
    world = live_world("concord")
    other_city = live_world("carrollton")
    program = Program.objects.get(department__schema_name="concord")

    verify("concord", timezone.now() + timedelta(days=366 + program.verification_grace_days))

    with schema_context("concord"):
        assert Participant.objects.get(pk=world.participant_pk).status == Participant.Status.LAPSED
    assert world.grant().ended_why == Grant.Ended.LAPSED
    assert_lapsed_once(world)
    assert other_city.grant().ended_at is None


def test_a_lapsed_registration_purged_records_the_end_before_deleting():
    world = live_world("concord")
    program = Program.objects.get(department__schema_name="concord")
    lapsed_at = timezone.now() - timedelta(days=program.purge_after_days + 1)
    with schema_context("concord"):
        Participant.objects.filter(pk=world.participant_pk).update(
            status=Participant.Status.LAPSED, lapsed_at=lapsed_at
        )

    verify("concord", timezone.now())

    with schema_context("concord"):
        assert not Site.objects.filter(pk=world.site_pk).exists()
        assert AuditEntry.objects.filter(action=AuditEntry.Action.LIVE_FEED_END).exists()
    assert_lapsed_once(world)
