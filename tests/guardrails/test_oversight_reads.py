"""The department's oversight members (council, auditors) read the guardrails and their history
from their own pages, and change nothing."""

from __future__ import annotations

from django_tenants.utils import schema_context

from portal.guardrails.models import Guardrails
from tests.conftest import feet
from tests.guardrails.test_settings_page import URL, form


def test_an_oversight_member_reads_the_guardrails_and_cannot_change_them(make_staff, admin):
    overseer = make_staff("concord", "oversight", email="auditor@council.concord.example.org")
    assert admin.client.post(URL, form(radius_burglary=feet(800))).status_code == 302

    page = overseer.client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Only the department's administrators change the guardrails" in html
    assert 'value="2625"' in html  # 800 m, in Concord's feet and "disabled" in html
    assert "Save the guardrails" not in html
    assert "radius_max_m.burglary" in html  # the change, in the history

    assert overseer.client.post(URL, form(radius_burglary=feet(5000))).status_code == 403
    with schema_context("concord"):
        assert Guardrails.current().radius_max_m == {"burglary": 800}
    trail = overseer.client.get("/department/oversight/").content.decode()
    assert f'href="{URL}"' in trail
