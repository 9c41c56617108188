"""The reveal page reloaded (a GET, as a browser's reload or back button sends) reveals nothing
and is not a blank 405: it goes back to the incident with a word on why (issue 12)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.department.models import Incident
from portal.registry.models import AuditEntry, Site
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db


def test_reloading_the_reveal_page_goes_back_to_the_incident(alice, investigator):
    investigator.client.post("/department/incidents/", incident_post_data())
    with schema_context("concord"):
        incident = Incident.objects.get()
        site = Site.objects.get()
        reveals_before = AuditEntry.objects.filter(action="reveal").count()
    url = f"/department/incidents/{incident.pk}/sites/{site.pk}/reveal/"
    response = investigator.client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/department/incidents/{incident.pk}/"
    page = investigator.client.get(response["Location"]).content.decode()
    assert "Contact details are shown only once" in page
    assert "Alice Moreno" not in page
    with schema_context("concord"):
        assert AuditEntry.objects.filter(action="reveal").count() == reveals_before


def test_a_resident_reloading_the_reveal_page_is_still_refused(alice, investigator):
    investigator.client.post("/department/incidents/", incident_post_data())
    with schema_context("concord"):
        incident = Incident.objects.get()
        site = Site.objects.get()
    response = alice.client.get(f"/department/incidents/{incident.pk}/sites/{site.pk}/reveal/")
    assert response.status_code == 403
