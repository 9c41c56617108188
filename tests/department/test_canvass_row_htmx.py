"""A canvass row saved with htmx: the answer is that row alone (no page, no second distance
search of the whole canvass), with the outcome for the page's live region; without htmx the
same post reloads the page as before. The reveal's contact panel gives the owner's language
and links to call or write."""

from __future__ import annotations

import json

import pytest
from django_tenants.utils import schema_context

from portal.department import selectors
from portal.department.models import CanvassEntry, Incident
from portal.registry.models import Participant, Site
from tests.conftest import incident_post_data

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def canvass(make_resident, make_staff, site_data):
    bob = make_resident("concord", email="bob@example.org", language="es")
    bob.client.post(
        "/register/",
        site_data(contact_phone="(704) 555-0142", contact_email="bob.owner@example.org"),
    )
    bob.client.post("/register/", site_data(address="79 Union St S", latitude="35.4082"))
    investigator = make_staff("concord", "investigator")
    investigator.client.post("/department/incidents/", incident_post_data())
    with schema_context("concord"):
        Participant.objects.filter(user__email="bob@example.org").update(language="es")
        return (
            investigator,
            Incident.objects.get(),
            Site.objects.get(address__startswith="77 Union"),
        )


def test_a_row_saved_with_htmx_answers_with_that_row_alone(canvass, monkeypatch):
    investigator, incident, site = canvass

    def whole_search(*args, **kwargs):
        raise AssertionError("the whole canvass was searched again")

    monkeypatch.setattr(selectors, "canvass", whole_search)
    response = investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/state/?n=1",
        {f"site{site.pk}-state": "has_footage", f"site{site.pk}-notes": "Clip promised"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<tr ") == 1 and f'<tr id="site-row-{site.pk}">' in html
    assert "<html" not in html and "csrfmiddlewaretoken" not in html
    assert '<span class="site-number">1</span>' in html
    assert "Has footage" in html and "Clip promised" in html
    message = json.loads(response["HX-Trigger"])["canvass:message"]
    assert message == {"message": "Saved: 77 Union St S, Concord, NC 28025.", "failed": False}
    with schema_context("concord"):
        entry = CanvassEntry.objects.get()
    assert (entry.site_id, entry.state, entry.notes) == (site.pk, "has_footage", "Clip promised")


def test_a_bad_state_with_htmx_says_so_and_keeps_the_row(canvass):
    investigator, incident, site = canvass
    response = investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/state/?n=1",
        {f"site{site.pk}-state": "teleported", f"site{site.pk}-notes": ""},
        **HTMX,
    )
    assert response.status_code == 200
    assert f'<tr id="site-row-{site.pk}">' in response.content.decode()
    message = json.loads(response["HX-Trigger"])["canvass:message"]
    assert message["failed"] is True and "valid choice" in message["message"]
    with schema_context("concord"):
        assert not CanvassEntry.objects.exists()


def test_a_footage_request_with_htmx_updates_its_row(canvass, django_capture_on_commit_callbacks):
    investigator, incident, site = canvass
    with django_capture_on_commit_callbacks(execute=True):
        response = investigator.client.post(
            f"/department/incidents/{incident.pk}/sites/{site.pk}/request/?n=1",
            {f"site{site.pk}-note": ""},
            **HTMX,
        )
    html = response.content.decode()
    assert "Contacted" in html and "Footage request: no answer yet" in html
    message = json.loads(response["HX-Trigger"])["canvass:message"]
    # On its way, or queued for the broker (here the commit's callbacks run after the view).
    assert message["failed"] is False
    assert "queued" in message["message"] or "77 Union St S" in message["message"]


def test_a_row_no_longer_in_the_canvass_answers_empty(canvass):
    investigator, incident, site = canvass
    with schema_context("concord"):
        Site.objects.filter(pk=site.pk).update(paused=True)
    response = investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/state/?n=1",
        {f"site{site.pk}-state": "contacted", f"site{site.pk}-notes": ""},
        **HTMX,
    )
    assert response.status_code == 200 and "<tr" not in response.content.decode()


def test_without_htmx_the_row_reloads_the_page(canvass):
    investigator, incident, site = canvass
    response = investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/state/",
        {f"site{site.pk}-state": "contacted", f"site{site.pk}-notes": ""},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/department/incidents/{incident.pk}/"


def test_the_page_loads_htmx_from_static_with_a_csp_safe_configuration(canvass):
    investigator, incident, _site = canvass
    page = investigator.client.get(f"/department/incidents/{incident.pk}/").content.decode()
    assert '<script src="/static/department/vendor/htmx.min.js" defer></script>' in page
    assert '"allowEval":false' in page and '"includeIndicatorStyles":false' in page
    assert 'hx-target="closest tr"' in page


def test_the_contact_panel_gives_the_language_and_links(canvass):
    investigator, incident, site = canvass
    response = investigator.client.post(
        f"/department/incidents/{incident.pk}/sites/{site.pk}/reveal/", {"note": ""}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert '<a href="tel:+17045550142">(704) 555-0142</a>' in html
    assert '<a href="mailto:bob.owner@example.org">bob.owner@example.org</a>' in html
    assert "<dt>Language</dt><dd>Spanish</dd>" in html
