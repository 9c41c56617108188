"""The signed-in user is read by a kept query (tenants.auth_backends): the same user Django's
ModelBackend reads, in each city alone (the same user key in two cities on purpose), refused
when inactive, and a session signed in under the libraries' backends before stays signed in."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from portal.registry.models import StaffMember
from tenants.auth_backends import USERS, ModelBackend

pytestmark = pytest.mark.django_db

# A user key far above the demo data's, the same in both cities.
USER = 990_001


def user_reads(client, path: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(path).status_code
    return status, [q["sql"] for q in queries.captured_queries if 'FROM "auth_user"' in q["sql"]]


def test_the_signed_in_user_is_the_one_djangos_backend_reads_by_one_kept_statement(admin):
    admin.client.get("/department/license/")
    status, reads = user_reads(admin.client, "/department/license/")
    assert status == 200
    # One read, the kept one: the ORM's get() would add "LIMIT 21".
    assert len(reads) == 1 and "LIMIT" not in reads[0]
    with schema_context("concord"):
        user = get_user_model().objects.get(email=admin.email)
        kept = ModelBackend().get_user(user.pk)
        read = DjangoModelBackend().get_user(user.pk)
        assert kept is not None and read is not None
        assert [getattr(kept, f.attname) for f in user._meta.concrete_fields] == [
            getattr(read, f.attname) for f in user._meta.concrete_fields
        ]
        assert ModelBackend().get_user(USER + 7) is None
        assert USERS.get("not a key") is None


def test_an_inactive_user_is_signed_out_on_their_next_request(admin):
    assert admin.client.get("/department/license/").status_code == 200
    with schema_context("concord"):
        get_user_model().objects.filter(email=admin.email).update(is_active=False)
    response = admin.client.get("/department/license/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "backend",
    [
        "django.contrib.auth.backends.ModelBackend",
        "allauth.account.auth_backends.AuthenticationBackend",
    ],
)
def test_a_session_signed_in_under_the_librarys_backend_stays_signed_in(make_staff, backend):
    staff = make_staff("concord", "administrator", signed_in=False)
    with schema_context("concord"):
        user = get_user_model().objects.get(email=staff.email)
        staff.client.force_login(user, backend=backend)
    page = staff.client.get("/department/license/")
    assert page.status_code == 200
    assert staff.email in page.content.decode()


def test_the_same_user_key_in_two_cities_reads_each_citys_own_user(make_staff):
    """Two staff members with the same user key, one in each city, alternating on one
    database connection: each city's page names its own."""
    people = {}
    for schema in ("concord", "carrollton"):
        email = f"same-key@{schema}.example.org"
        with schema_context(schema):
            user = get_user_model().objects.create_user(
                pk=USER, username=email, email=email, password="a-long-passphrase-here"
            )
            StaffMember.objects.create(user=user, role="administrator")
        staff = make_staff(schema, "administrator", email=f"other@{schema}.example.org")
        with schema_context(schema):
            staff.client.force_login(user)
            # The make_staff member's authenticator, moved to the user signed in.
            from allauth.mfa.models import Authenticator

            Authenticator.objects.filter(user__email=staff.email).update(user=user)
        people[schema] = (staff.client, email)
    for _round in range(2):
        for schema, (client, email) in people.items():
            page = client.get("/department/license/")
            assert page.status_code == 200, schema
            text = page.content.decode()
            assert email in text
            other = next(e for s, (_c, e) in people.items() if s != schema)
            assert other not in text
