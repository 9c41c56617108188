"""What each live-view route of the console writes in the audit trail: the start of a view when
it opens, its stop when it closes or is renewed (and the new start), nothing for looking at
the list, the viewer or its status while the grant is open."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_context

from portal.liveview.models import Grant
from portal.registry.models import AuditEntry
from tests.liveview.grant_fixtures import live_camera

pytestmark = pytest.mark.django_db

LIVE = (AuditEntry.Action.LIVE_FEED, AuditEntry.Action.LIVE_FEED_END)


def entries() -> list[str]:
    with schema_context("concord"):
        return list(
            AuditEntry.objects.filter(action__in=LIVE)
            .order_by("pk")
            .values_list("action", flat=True)
        )


def test_each_live_route_records_what_it_does(make_staff):
    operator = make_staff("concord", "operator")
    with schema_context("concord"):
        live = live_camera()
    client = operator.client
    assert client.get("/department/live/").status_code == 200
    assert client.get(f"/department/live/cameras/{live.camera.pk}/open/").status_code == 200
    assert entries() == []
    opened = client.post(
        f"/department/live/cameras/{live.camera.pk}/open/",
        {"reason": "serious_collision", "case_number": "CPD-3"},
    )
    assert opened.status_code == 302
    assert entries() == ["live_feed"]
    with schema_context("concord"):
        grant = Grant.objects.get()
    assert client.get(f"/department/live/grants/{grant.pk}/").status_code == 200
    assert client.get(f"/department/live/grants/{grant.pk}/status.json").status_code == 200
    assert entries() == ["live_feed"]
    client.post(
        f"/department/live/grants/{grant.pk}/renew/",
        {"reason": "serious_collision", "case_number": "CPD-3"},
    )
    assert entries() == ["live_feed", "live_feed_end", "live_feed"]
    with schema_context("concord"):
        renewed = Grant.objects.get(renewed_from=grant)
    client.post(f"/department/live/grants/{renewed.pk}/close/")
    assert entries() == ["live_feed", "live_feed_end", "live_feed", "live_feed_end"]
    with schema_context("concord"):
        start = AuditEntry.objects.filter(action="live_feed").first()
        assert start.actor_email == operator.email
        assert start.actor_role == "operator"
        assert start.ip_address == "127.0.0.1"
        assert start.case_number == "CPD-3"
        assert start.category == "serious_collision"
