"""Opting out deletes the participant's personal data at once, from every table."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django_tenants.utils import schema_context

from portal.registry.models import Camera, OptOut, Site

pytestmark = pytest.mark.django_db(transaction=False)

PERSONAL = [
    "alice@example.org",
    "Alice Moreno",
    "+17045550142",
    "77 Union St S",
    "Moreno Bakery",
    "PO Box 12",
]


def rows_mentioning(schema_name: str, needles: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) in the schema whose text holds one of the needles."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = %s
                 AND data_type IN ('text', 'character varying', 'jsonb', 'ARRAY')""",
            [schema_name],
        )
        for table, column in cursor.fetchall():
            for needle in needles:
                cursor.execute(
                    f'SELECT 1 FROM "{schema_name}"."{table}" '
                    f'WHERE "{column}"::text ILIKE %s LIMIT 1',
                    [f"%{needle}%"],
                )
                if cursor.fetchone():
                    found.append((table, column, needle))
    return found


@pytest.fixture
def alice(make_resident, site_data):
    resident = make_resident("concord", organisation_name="Moreno Bakery")
    resident.client.post(
        "/register/", site_data(cameras=2, yard_sign_requested="on", yard_sign_address="PO Box 12")
    )
    resident.client.post("/register/", site_data(address="77 Union St S, rear"))
    mail.outbox.clear()
    return resident


def test_the_personal_data_is_there_before(alice):
    assert rows_mentioning("concord", PERSONAL)


def test_opting_out_and_closing_the_account_leaves_no_personal_data_anywhere(alice):
    response = alice.client.post("/my/leave/", {"confirm": "on", "close_account": "on"})
    assert response.status_code == 200
    assert (
        "2 sites and their cameras and contact details were deleted." in response.content.decode()
    )
    assert rows_mentioning("concord", PERSONAL) == []
    with schema_context("concord"):
        assert Site.objects.count() == 0
        assert Camera.objects.count() == 0
        assert not get_user_model().objects.filter(email="alice@example.org").exists()
        record = OptOut.objects.get()
        assert (record.sites_deleted, record.cameras_deleted, record.account_closed) == (2, 3, True)
    assert "_auth_user_id" not in alice.client.session


def test_opting_out_but_keeping_the_account_keeps_only_the_sign_in_email(alice):
    alice.client.post("/my/leave/", {"confirm": "on"})
    assert rows_mentioning("concord", PERSONAL[1:]) == []
    with schema_context("concord"):
        assert get_user_model().objects.filter(email="alice@example.org").exists()
        assert Site.objects.count() == 0
    assert "You have not registered a site yet." in alice.client.get("/my/").content.decode()


def test_a_confirmation_email_is_sent(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alice.client.post("/my/leave/", {"confirm": "on", "close_account": "on"})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.org"]
    assert message.subject == "You have left Concord Community Camera Registry"
    assert "Your account has been closed as well." in message.body


def test_the_confirmation_email_is_in_the_participants_language(
    make_resident, site_data, django_capture_on_commit_callbacks
):
    maria = make_resident("concord", email="maria@example.org")
    maria.client.post("/i18n/setlang/", {"language": "es", "next": "/"})
    maria.client.post("/register/", site_data())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        maria.client.post("/my/leave/", {"confirm": "on"})
    assert mail.outbox[0].subject == "Ha salido de Registro Comunitario de Cámaras de Concord"


def test_nothing_happens_without_the_confirmation(alice):
    response = alice.client.post("/my/leave/", {"close_account": "on"})
    assert "Tick the box to confirm that you want to leave." in response.content.decode()
    with schema_context("concord"):
        assert Site.objects.count() == 2
    assert mail.outbox == []


def test_a_second_opt_out_says_it_is_already_done(alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        alice.client.post("/my/leave/", {"confirm": "on"})
    with django_capture_on_commit_callbacks(execute=True):
        response = alice.client.post("/my/leave/", {"confirm": "on"}, follow=True)
    assert "You have already left: there is nothing left to delete." in response.content.decode()
    with schema_context("concord"):
        assert OptOut.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_second_opt_out_after_closing_the_account_says_it_is_done(alice):
    alice.client.post("/my/leave/", {"confirm": "on", "close_account": "on"})
    response = alice.client.post("/my/leave/", {"confirm": "on", "close_account": "on"})
    assert response.status_code == 200
    assert "your data is already deleted" in response.content.decode()
    with schema_context("concord"):
        assert OptOut.objects.count() == 1


def test_other_residents_keep_their_data(alice, make_resident, site_data):
    bob = make_resident("concord", email="bob@example.org")
    bob.client.post("/register/", site_data(contact_name="Bob Lee"))
    alice.client.post("/my/leave/", {"confirm": "on", "close_account": "on"})
    with schema_context("concord"):
        assert list(Site.objects.values_list("contact_name", flat=True)) == ["Bob Lee"]
