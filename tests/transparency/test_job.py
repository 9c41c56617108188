"""The scheduled refresh: listed among the jobs, run in each department's schema, idempotent,
closed months kept; the audit chain's scheduled check published."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from canvass.schedule import JOBS
from portal.registry import tasks as registry_tasks
from portal.transparency import tasks
from portal.transparency.models import ChainCheck, MonthComputed, MonthlyFigure
from portal.transparency.services import figures_refresh, months_until
from tenants.models import Department
from tests.transparency.conftest import published
from tests.transparency.seeding import ZIP_28025, Seed, seed

pytestmark = pytest.mark.django_db


def rows(schema_name: str) -> list[tuple]:
    with schema_context(schema_name):
        return list(
            MonthlyFigure.objects.values_list("month", "metric", "category", "area", "value")
        )


def test_the_job_is_scheduled():
    assert JOBS["transparency_refresh"].task == "portal.transparency.tasks.transparency_refresh"


def test_the_job_runs_in_its_departments_schema_and_twice_gives_the_same_rows():
    seed("concord", Seed(sites={ZIP_28025: 7}, reveals={"burglary": 6}))
    tasks.transparency_refresh.apply(headers={"_schema_name": "concord"}).get()
    first = rows("concord")
    assert ("reveals", "burglary", 6) in [(m, c, v) for _mo, m, c, _a, v in first]
    tasks.transparency_refresh.apply(headers={"_schema_name": "concord"}).get()
    assert sorted(rows("concord")) == sorted(first)
    assert rows("carrollton") == []


def test_a_closed_month_keeps_its_figures():
    department = Department.objects.get(schema_name="concord")
    now = timezone.now()
    with schema_context("concord"):
        # Six months ago: in the published year, ended long before its last computation.
        old = months_until(now, department.zone)[5].first_day
        MonthlyFigure.objects.create(month=old, metric="opt_outs", value=9)
        MonthComputed.objects.create(month=old, computed_at=now - timedelta(days=1))
        figures_refresh(department=department, now=now)
        # Computed after it ended: the records it came from may have gone since (an opt-out
        # deletes an owner's grants); the published figure stays.
        assert MonthlyFigure.objects.get(month=old, metric="opt_outs").value == 9


def test_the_audit_chain_check_is_published(concord_client):
    seed("concord", Seed(reveals={"burglary": 5}))
    registry_tasks.audit_verify.apply(headers={"_schema_name": "concord"}).get()
    with schema_context("concord"):
        check = ChainCheck.objects.get()
        assert check.intact and check.entries >= 5
    out = published(concord_client)
    assert out["data"]["audit_chain"]["intact"] is True
    assert ": intact." in out["page"]
    with schema_context("carrollton"):
        assert not ChainCheck.objects.exists()


def test_the_command_refreshes_each_serving_department():
    from io import StringIO

    from django.core.management import call_command

    seed("carrollton", Seed(reveals={"burglary": 5}))
    out = StringIO()
    call_command("transparency_refresh", "--schema", "carrollton", stdout=out)
    assert "carrollton: 12 months computed" in out.getvalue()
    assert rows("concord") == []
    assert ("reveals", "burglary", 5) in [(m, c, v) for _mo, m, c, _a, v in rows("carrollton")]


def test_a_broken_chain_is_published_as_broken(concord_client):
    from portal.registry import signals
    from portal.registry.audit_chain import Verdict

    with schema_context("concord"):
        signals.audit_chain_checked.send(
            sender=Verdict,
            verdict=Verdict(40, 17, "changed"),
            checked_at=timezone.now(),
            last_entry_id=40,
        )
    out = published(concord_client)
    assert out["data"]["audit_chain"]["intact"] is False
    assert ": broken." in out["page"]
    # Which entry broke and how is for the operators, not the public page.
    assert "17" not in out["data"]["audit_chain"].values()
