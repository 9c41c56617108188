"""The platform audit log: what vendor staff did, filtered by action, department, actor and
dates, paged; the console's department creation is in it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import schema_context

from console.audit import platform_audit_record
from console.models import PlatformAuditEntry
from tenants.models import Department
from tests.console.test_department_onboarding import FORM
from tests.support.conftest import support_request

pytestmark = pytest.mark.django_db


def rows(html: str) -> int:
    return html.count("<tr>") - 1 - ("No entries." in html)  # the header, the empty row


def test_filters_by_action_department_actor_and_dates(make_vendor, time_machine):
    administrator = make_vendor("administrator")
    support = make_vendor("support")
    now = timezone.now()
    with schema_context("public"):
        user = get_user_model().objects.get(pk=support.pk)
        cities = {city.schema_name: city for city in Department.objects.cities()}
        time_machine.move_to(now - timedelta(days=3))
        for schema in ("concord", "carrollton"):
            platform_audit_record(actor=user, action="support_request", department=cities[schema])
        time_machine.move_to(now)
    support_request(support, "littlerock")
    concord = cities["concord"]
    client = administrator.client
    assert rows(client.get("/console/audit/").content.decode()) == 3
    page = client.get("/console/audit/", {"department": concord.pk}).content.decode()
    assert rows(page) == 1 and "Concord" in page
    assert rows(client.get("/console/audit/", {"actor": "SUPPORT@canvass"}).content.decode()) == 3
    assert rows(client.get("/console/audit/", {"actor": "nobody"}).content.decode()) == 0
    assert (
        rows(client.get("/console/audit/", {"action": "vendor_role_change"}).content.decode()) == 0
    )
    today = timezone.localdate()
    page = client.get("/console/audit/", {"since": today.isoformat()}).content.decode()
    assert rows(page) == 1 and "littlerock" in page
    page = client.get(
        "/console/audit/", {"until": (today - timedelta(days=1)).isoformat()}
    ).content.decode()
    assert rows(page) == 2


def test_bad_filters_are_refused_with_a_message(make_vendor):
    client = make_vendor("administrator").client
    response = client.get("/console/audit/", {"since": "2026-11-20", "until": "2026-11-01"})
    assert response.status_code == 400
    assert "The end of the range is before its start." in response.content.decode()
    assert client.get("/console/audit/", {"since": "yesterday"}).status_code == 400
    assert client.get("/console/audit/", {"action": "dance"}).status_code == 400


def test_pages_of_fifty(make_vendor):
    client = make_vendor("administrator").client
    with schema_context("public"):
        for number in range(60):
            platform_audit_record(actor=None, action="job_failed", detail={"n": number})
    first = client.get("/console/audit/").content.decode()
    assert rows(first) == 50 and "Page 1 of 2" in first
    second = client.get("/console/audit/", {"page": "2", "action": "job_failed"}).content.decode()
    assert rows(second) == 10 and "Page 2 of 2" in second
    assert "action=job_failed&amp;page=1" in second


def test_department_creation_is_recorded(platform_client, vendor, sign_in):
    sign_in(platform_client, vendor)
    response = platform_client.post("/console/departments/new/", FORM)
    assert response.status_code == 302
    with schema_context("public"):
        entry = PlatformAuditEntry.objects.get(action="department_create")
        assert entry.actor_email == vendor.email
        assert entry.department_schema == "springfield"
