"""The owner chooses, on their own pages, how they are told of access: at once or weekly."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.access_notices.models import NoticePreference
from tests.access_notices.helpers import owner

pytestmark = pytest.mark.django_db


def test_the_owner_chooses_a_weekly_summary(make_resident, site_data):
    alice = owner(make_resident, site_data)
    manage = alice.client.get("/my/").content.decode()
    assert 'href="/my/notices/"' in manage
    page = alice.client.get("/my/notices/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "An email at each access" in html and "One summary a week" in html
    assert 'value="at_once" id="frequency-at_once" checked' in html

    response = alice.client.post("/my/notices/", {"frequency": "weekly"})
    assert response.status_code == 302
    with schema_context("concord"):
        assert NoticePreference.objects.get().frequency == "weekly"
    assert (
        'value="weekly" id="frequency-weekly" checked'
        in alice.client.get("/my/notices/").content.decode()
    )


def test_the_page_speaks_spanish(make_resident, site_data):
    alice = owner(make_resident, site_data, language="es")
    html = alice.client.get("/my/notices/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Cómo se me avisa de los accesos" in html
    assert "Un resumen por semana" in html
    response = alice.client.post(
        "/my/notices/", {"frequency": "monthly"}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 400
    assert "Elija cómo quiere que se le avise." in response.content.decode()
    with schema_context("concord"):
        assert not NoticePreference.objects.exists()


def test_staff_have_no_notice_preferences(make_staff):
    investigator = make_staff("concord", "investigator")
    assert investigator.client.get("/my/notices/").status_code == 403


def test_the_notice_pages_show_no_owners_data_and_record_nothing(
    make_resident, site_data, make_staff
):
    """Like every route the audit completeness test classifies as not audited: the owner's
    choice, a case's delay page and the maximum show no owner's details and write no entry."""
    from portal.registry.models import AuditEntry
    from tests.access_notices.helpers import incident_open

    alice = owner(make_resident, site_data)
    admin = make_staff("concord", "administrator")
    incident = incident_open("concord", admin.email)
    with schema_context("concord"):
        before = AuditEntry.objects.count()
    for client, path in (
        (alice.client, "/my/notices/"),
        (admin.client, f"/department/notices/incidents/{incident.pk}/"),
        (admin.client, "/department/notices/settings/"),
    ):
        html = client.get(path).content.decode()
        assert "Alice Moreno" not in html and "555-0142" not in html
    admin.client.post(
        f"/department/notices/incidents/{incident.pk}/", {"days": "5", "reason": "Ongoing"}
    )
    with schema_context("concord"):
        assert AuditEntry.objects.count() == before
