"""Every view that hands out personal data, addresses, exact locations or footage, or sends to
owners, writes an audit entry; the views that show none write nothing."""

from __future__ import annotations

from secrets import token_urlsafe

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver
from django_tenants.utils import schema_context

from billing.fake_stripe import FakeStripe
from billing.gateway import transport_injected
from billing.models import DevicePlan, Subscription
from portal.department import urls as department_urls
from portal.department.models import Incident, NotificationRecipient
from portal.department.services import clip_upload
from portal.liveview import urls_api as device_api_urls
from portal.liveview import urls_owner as device_owner_urls
from portal.liveview import urls_sharing as live_sharing_urls
from portal.registry.audit import Actor
from portal.registry.models import AuditEntry, Site, StaffMember
from portal.registry.services import import_check_run, import_start
from portal.residents import urls as resident_urls
from tenants.models import Department, Program
from tests.billing.plans import HUB_4, plan_make, plan_sync, plans_offer
from tests.department.test_notify import MP4

pytestmark = pytest.mark.django_db

# Route name -> (method, path template, data): each must add exactly one audit entry.
AUDITED = {
    "reveal": (
        "post",
        "/department/incidents/{incident}/sites/{site}/reveal/",
        {"note": "Door camera faces the lot"},
    ),
    # The canvass lists owners' addresses (recorded once per visit, see test_reasons.py).
    "incident": ("get", "/department/incidents/{incident}/", None),
    # The canvass's next rows (the page's "more" link) list addresses too, recorded the same way.
    "canvass_rows": ("get", "/department/incidents/{incident}/canvass/rows.json?after=0", None),
    # Up close, staff with personal-data access see each site at its exact place (one entry per
    # request; clusters and analysts' grid cells record nothing, see test_map_privacy.py).
    "map_data": ("get", "/department/map/data.json?bbox=35,-81,36,-80&zoom=17", None),
    "clip_download": ("get", "/department/clips/{clip}/", None),
    "export_csv": ("get", "/department/registry.csv", None),
    "export_geojson": ("get", "/department/registry.geojson", None),
    "canvass_export": ("get", "/department/incidents/{incident}/canvass.csv", None),
    "audit_export": ("get", "/department/audit.csv", None),
    "notify": (
        "post",
        "/department/incidents/{incident}/notify/",
        {"message": "Check.", "key": token_urlsafe()},
    ),
    "footage_request": (
        "post",
        "/department/incidents/{incident}/sites/{site}/request/",
        {"message": "Please."},
    ),
    # A case's changes, its closing and its reopening are recorded (issue 12).
    "incident_edit": (
        "post",
        "/department/incidents/{incident}/edit/",
        {
            "case_number": "1-A",
            "category": "burglary",
            "description": "Side door forced.",
            "starts_at": "2026-11-20T16:00",
            "ends_at": "2026-11-20T17:30",
        },
    ),
    "incident_close": ("post", "/department/incidents/{incident}/close/", {"confirm": "1"}),
    "incident_reopen": ("post", "/department/incidents/{closed}/reopen/", {"confirm": "1"}),
    "staff": (
        "post",
        "/department/staff/",
        {"email": "new@concord.example.org", "role": "analyst"},
    ),
    # Changes to a staff account are recorded (who changed whose role or account, and how).
    "staff_role": ("post", "/department/staff/{member}/role/", {"role": "operator"}),
    "staff_deactivate": ("post", "/department/staff/{member}/deactivate/", {"confirm": "1"}),
    "staff_reactivate": ("post", "/department/staff/{inactive}/reactivate/", {"confirm": "1"}),
    # The preview of a checked import shows addresses and names; confirming it writes them.
    "import_job": ("get", "/department/import/{import_job}/", None),
    "import_commit": ("post", "/department/import/{import_job}/commit/", {"confirm": "1"}),
    # The city's device subscriptions list their sites' addresses (one entry per viewing).
    "device_subscriptions": ("get", "/department/device-subscriptions/", None),
    # Invitations sent again or revoked are recorded like the first one.
    "staff_resend": ("post", "/department/staff/{pending}/resend/", {"confirm": "1"}),
    "staff_revoke": ("post", "/department/staff/{pending}/revoke/", {"confirm": "1"}),
    # The yard-sign list and its export show where residents want a sign (one entry per
    # viewing; the export one per site, an entry without a site when it holds none), and a
    # delivery is recorded against the site.
    "yard_signs": ("get", "/department/yard-signs/", None),
    "yard_signs_export": ("get", "/department/yard-signs.csv?status=delivered", None),
    "yard_sign_delivered": ("post", "/department/yard-signs/{site}/delivered/", {"page": "1"}),
}
# Routes that show no owner's contact details, address, exact location or footage, and so
# record nothing.
NOT_AUDITED = {
    "home": "/department/",
    "map": "/department/map/",
    "incidents": "/department/incidents/",
    "audit": "/department/audit/",
    "import": "/department/import/",
    "settings": "/department/settings/",
    # The city's own branding, languages and terms: no owner's data.
    "portal_settings": "/department/settings/portal/",
    # Billing's pages show plans and the city's license, never an owner.
    "plan_offers": "/department/plans/",
    "license": "/department/license/",
    "import_status": "/department/import/{import_job}/status.json",
    # The cameras staff may open live: labels, what they see, distances; no address.
    "live_cameras": "/department/live/",
}
# Live view records each view's start (LIVE_FEED) and stop (LIVE_FEED_END) in its services;
# which route writes what is tested in tests/liveview/test_staff_live_audit.py.
# The live cameras on the map record their exact places (MAP_VIEW, one entry per site; none when
# no camera is shared): tests/liveview/test_staff_live.py.
LIVE_VIEW_ROUTES = {
    "live_open",
    "live_grant",
    "live_status",
    "live_renew",
    "live_close",
    "live_cameras_data",
}
# The guardrails' pages (portal.guardrails): their settings (a change records GUARDRAIL_CHANGE)
# and the approval queue show no owner's details; an approved reveal is recorded (REVEAL) when
# approved, and its result page shows it to its requester only (tests/guardrails/).
GUARDRAIL_ROUTES = {"guardrails", "approvals", "approval_decide", "approval_result"}
# Routes that change state without showing or sending anyone's details.
# The first-run checklist's answers (an import not needed, the list hidden) touch no owner's
# data; the checklist row keeps who gave them and when (portal.department.setup).
UNAUDITED_ACTIONS = {"canvass_entry", "import_cancel", "setup_checklist"}
# The address search (portal.department.geocoder_views): places for a typed address and the
# address at a clicked point, from the street data of a geocoder, never from the registry; and
# the administrator's choice of geocoder. Tested in tests/geocoding/.
GEOCODER_ROUTES = {"geocode", "geocode_reverse", "geocoder_settings"}
# The resident portal: an owner sees and changes only their own registration, so its pages
# record nothing by themselves. (What changes a site's integration, billing on Stripe's word or
# an opt-out ending it, records INTEGRATION_START / INTEGRATION_END through the registry.)
RESIDENT_ROUTES = {
    "landing": "public page",
    "site_new": "the owner's own registration",
    "manage": "the owner's own sites, subscriptions and invoices",
    "site_edit": "the owner's own site",
    "site_integrate": "the owner buys a device: Stripe Checkout, nothing shown to staff",
    "checkout_done": "Stripe's return page: integration waits for the paid invoice",
    "checkout_cancelled": "Stripe's return page: nothing was bought",
    "billing_portal": "the owner's own card and invoices, at Stripe",
    "site_pause": "the owner's own site",
    "site_resume": "the owner's own site",
    "camera_pause": "the owner's own camera",
    "camera_resume": "the owner's own camera",
    "confirm": "the owner's yearly confirmation",
    "terms": "the owner accepts the department's new terms for their own sites",
    "access": "the audit entries about the owner, read by the owner",
    "leave": "opting out deletes the owner's data (an integration ended is recorded)",
    "verify": "the owner's yearly confirmation link",
    "geocode": "an address typed by the owner",
    "geocode_reverse": "a point the owner clicked, named from the geocoder's street data",
    # Residents' self-service: the owner's own account and requests. The data download and a
    # changed answer record themselves (tests/residents/test_data_download.py,
    # test_requests_received.py); the privacy and contact pages are public.
    "account": "the owner's own preferences",
    "data_json": "the owner's own data, recorded as OWNER_EXPORT by the service",
    "data_csv": "the owner's own data, recorded as OWNER_EXPORT by the service",
    "requests": "the requests the owner received, read by the owner",
    "answer_change": "the owner's own answer; a change is recorded as ANSWER_CHANGE",
    "privacy": "public page",
    "contact": "public page",
}

# Live view's device pages (the owner's own devices) and the device API (the device itself):
# no staff member reads anyone's details there. Access to video is recorded by the grants.
DEVICE_ROUTES = {
    "site_devices": "the owner's own devices, channels and their events",
    "claim_code_new": "the owner's own claim code",
    "channel_camera": "the owner maps their own channel to their own camera",
    "device_remove": "the owner removes their own device (grants it ends are recorded)",
    "claim": "a device pairs (refusals are DeviceEvents)",
    "heartbeat": "a device reports in",
    "credential": "a device rotates its own credential (a DeviceEvent)",
    "openapi": "the API's description",
}

# The owner's live-view page: their own cameras and switches, shown to no one else. What ends a
# live view there (a pause, a change of mode) records its LIVE_FEED_END entry through
# portal.liveview.services.grants_end (tests/liveview/test_owner_pause.py).
LIVE_SHARING_ROUTES = {
    "live": "the owner's own cameras, their sharing and devices",
    "pause": "the owner's pause: each live view it ends is recorded by grants_end",
    "resume": "the owner's resume: starts nothing",
    "camera_sharing": "the owner's own camera: a live view it ends is recorded by grants_end",
}


@pytest.fixture
def world(make_resident, make_staff, site_data, django_capture_on_commit_callbacks):
    alice = make_resident("concord")
    alice.client.post("/register/", site_data())
    admin = make_staff("concord", "administrator")
    make_staff("concord", "investigator")
    make_staff("concord", "analyst", signed_in=False)
    with schema_context("concord"):
        member = StaffMember.objects.get(user__email="investigator@concord.example.org")
        inactive = StaffMember.objects.get(user__email="analyst@concord.example.org")
        get_user_model().objects.filter(pk=inactive.user_id).update(is_active=False)
        pending_user = get_user_model().objects.create_user(
            username="pending@concord.example.org", email="pending@concord.example.org"
        )
        pending = StaffMember.objects.create(user=pending_user, role="analyst")
        site = Site.objects.get()
        Site.objects.filter(pk=site.pk).update(yard_sign_requested=True)
        incident = Incident.objects.create(
            kind="crime",
            category="burglary",
            case_number="1",
            latitude=site.latitude,
            longitude=site.longitude,
            starts_at="2026-11-20T21:00Z",
            ends_at="2026-11-20T22:00Z",
            radius_m=300,
            opened_by=site.participant.user,
        )
        closed = Incident.objects.create(
            kind="crime",
            category="burglary",
            case_number="2",
            latitude=site.latitude,
            longitude=site.longitude,
            starts_at="2026-11-20T21:00Z",
            ends_at="2026-11-20T22:00Z",
            radius_m=300,
            opened_by=site.participant.user,
            closed_at="2026-11-21T10:00Z",
        )
        notification = incident.notifications.create(
            message="m", radius_m=300, created_by=site.participant.user
        )
        recipient = NotificationRecipient.objects.create(
            notification=notification, participant=site.participant, answer="has_footage"
        )
        clip = clip_upload(
            recipient=recipient,
            upload=SimpleUploadedFile("a.mp4", MP4),
            program=Program.objects.get(department__schema_name="concord"),
            ip_address=None,
        )
        job = import_start(
            actor=Actor.system("test"),
            filename="registry.csv",
            content=(
                b"address,latitude,longitude,contact_name,contact_email,camera_label\n"
                b"1 Cabarrus Ave,35.41,-80.58,Kim Lee,kim@example.org,Door\n"
            ),
        )
        import_check_run(
            job_id=job.pk, program=Program.objects.get(department__schema_name="concord")
        )
    plan = DevicePlan.objects.create(
        slug="audit-hub",
        name="Hub",
        cameras_supported=4,
        storage_gb=500,
        device_price=35_000,
        yearly_price=15_000,
        description_en="A hub.",
        description_es="Un concentrador.",
    )
    Subscription.objects.create(
        department=Department.objects.get(schema_name="concord"),
        site_id=site.pk,
        participant_id=site.participant_id,
        site_address=site.address,
        plan=plan,
        status=Subscription.Status.ACTIVE,
        yearly_amount=15_000,
        currency="usd",
    )
    ids = {
        "incident": incident.pk,
        "closed": closed.pk,
        "site": site.pk,
        "clip": clip.pk,
        "import_job": job.pk,
        "member": member.pk,
        "inactive": inactive.pk,
        "pending": pending.pk,
    }
    return admin, ids


def audit_count() -> int:
    with schema_context("concord"):
        return AuditEntry.objects.count()


def route_names(patterns: list[URLPattern | URLResolver]) -> set[str | None]:
    """The names of the routes, those of included URLconfs too."""
    names: set[str | None] = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            names |= route_names(pattern.url_patterns)
        else:
            names.add(pattern.name)
    return names


def test_every_department_route_is_classified():
    names = route_names(department_urls.urlpatterns)
    assert names == (
        set(AUDITED)
        | set(NOT_AUDITED)
        | UNAUDITED_ACTIONS
        | LIVE_VIEW_ROUTES
        | GUARDRAIL_ROUTES
        | GEOCODER_ROUTES
    )


def test_every_resident_route_is_classified():
    assert {pattern.name for pattern in resident_urls.urlpatterns} == set(RESIDENT_ROUTES)


def test_every_device_route_is_classified():
    names = {pattern.name for pattern in device_owner_urls.urlpatterns} | {
        pattern.name for pattern in device_api_urls.urlpatterns
    }
    assert names == set(DEVICE_ROUTES)


def test_every_live_sharing_route_is_classified():
    assert {pattern.name for pattern in live_sharing_urls.urlpatterns} == set(LIVE_SHARING_ROUTES)


def test_starting_a_checkout_records_nothing_until_stripe_says_it_is_paid(make_resident, site_data):
    owner = make_resident("littlerock")
    owner.client.post(
        "/register/",
        site_data(address="500 President Clinton Ave", latitude="34.7465", longitude="-92.2896"),
    )
    with schema_context("littlerock"):
        site = Site.objects.get()
        before = AuditEntry.objects.count()
    with transport_injected(FakeStripe()):
        plan = plan_sync(plan_make(HUB_4))
        plans_offer("littlerock", plan)
        response = owner.client.post(f"/my/sites/{site.pk}/integrate/", {"plan": plan.pk})
    assert response.status_code == 303
    with schema_context("littlerock"):
        assert AuditEntry.objects.count() == before


@pytest.mark.parametrize("name", AUDITED)
def test_views_that_hand_out_personal_data_are_recorded(
    world, name, django_capture_on_commit_callbacks
):
    admin, ids = world
    method, path, data = AUDITED[name]
    before = audit_count()
    with django_capture_on_commit_callbacks(execute=True):
        response = (
            getattr(admin.client, method)(path.format(**ids), data)
            if data
            else admin.client.get(path.format(**ids))
        )
    assert response.status_code in (200, 302)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    assert audit_count() == before + 1


@pytest.mark.parametrize("name", NOT_AUDITED)
def test_views_without_personal_data_record_nothing(world, name):
    admin, ids = world
    before = audit_count()
    assert admin.client.get(NOT_AUDITED[name].format(**ids)).status_code == 200
    assert audit_count() == before
