"""The dashboard is every staff member's first page: the checklist costs its administrators
one query, and nobody else anything."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from portal.department.setup import setup_checklist_for
from portal.registry.models import StaffMember
from tenants.models import Department

pytestmark = pytest.mark.django_db


def department(schema_name: str) -> Department:
    return Department.objects.select_related("branding", "program").get(schema_name=schema_name)


def test_reading_the_checklist_is_one_query(springfield, make_staff, django_assert_num_queries):
    make_staff("springfield", "investigator", signed_in=False)
    springfield.client.post("/department/setup/", {"change": "import_not_needed"})
    city = department("springfield")
    with schema_context("springfield"):
        administrator = StaffMember.objects.get(role="administrator")
        with django_assert_num_queries(1):
            progress = setup_checklist_for(staff=administrator, department=city)
            assert progress is not None
            assert [step.state for step in progress.steps] == ["todo", "todo", "done", "waived"]
            assert progress.steps[3].waived_by == "chief@springfield.example.org"


def test_other_staff_cost_nothing(springfield, make_staff, django_assert_num_queries):
    make_staff("springfield", "investigator", signed_in=False)
    city = department("springfield")
    with schema_context("springfield"):
        investigator = StaffMember.objects.get(role="investigator")
        with django_assert_num_queries(0):
            assert setup_checklist_for(staff=investigator, department=city) is None


def checklist_queries(client) -> tuple[int, int]:
    """The dashboard's queries: all of them, and those the checklist made."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/department/").status_code == 200
    return len(queries), sum("department_setupchecklist" in q["sql"] for q in queries)


def test_the_dashboard_with_the_checklist(springfield, make_staff, django_assert_max_num_queries):
    investigator = make_staff("springfield", "investigator")
    plain, checklist = checklist_queries(investigator.client)
    assert checklist == 0
    total, checklist = checklist_queries(springfield.client)
    assert checklist == 1
    # An administrator's dashboard: the investigator's plus the checklist's one query (and
    # the administrator's own extras: the live views summary reads the same as theirs).
    assert total <= plain + 1
    with django_assert_max_num_queries(plain + 1):
        springfield.client.get("/department/")
