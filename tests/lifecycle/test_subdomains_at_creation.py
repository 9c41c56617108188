"""Every reserved name of the issue (www, admin, api, static, media) and malformed host labels are
refused by the console's New department form, over HTTP, with nothing created (the service's
own refusals are tested in tests/tenants/test_department_provision_refusals.py)."""

from __future__ import annotations

import pytest
from django_tenants.utils import schema_exists

from tenants.models import Department, Domain
from tests.console.test_department_onboarding import FORM

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("subdomain", ["www", "admin", "api", "static", "media"])
def test_a_reserved_subdomain_is_refused(console, subdomain):
    before = (Department.objects.count(), Domain.objects.count())
    response = console.post("/console/departments/new/", FORM | {"subdomain": subdomain})
    assert response.status_code == 400
    assert f"The subdomain “{subdomain}” is reserved." in response.content.decode()
    assert (Department.objects.count(), Domain.objects.count()) == before
    assert not schema_exists(subdomain)


@pytest.mark.parametrize(
    "subdomain", ["spring.field", "spring_field", "-spring", "spring-", "a" * 30 + "b"]
)
def test_a_subdomain_that_is_not_a_host_label_is_refused(console, subdomain):
    before = Department.objects.count()
    response = console.post("/console/departments/new/", FORM | {"subdomain": subdomain})
    assert response.status_code == 400
    text = response.content.decode()
    assert "is not one" in text or "at most 30 characters" in text
    assert Department.objects.count() == before
